// Every differentiable op of the library.
#pragma once
#include "autograd.h"
#include "copy.h"
#include "ops/binary.h"
#include "ops/dropout.h"
#include "ops/matmul.h"
#include "ops/norm.h"
#include "ops/reduce.h"
#include "ops/shape.h"
#include "ops/softmax.h"
#include "ops/unary.h"
#include "random.h"
#include "tensor.h"
