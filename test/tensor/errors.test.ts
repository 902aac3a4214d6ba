/**
 * Every error the tensor library raises: its class, that it is a ConvkitError with the right code,
 * and its exact message text. Where a message shows an array the caller passed, that part is
 * formatted by describeValue() from lib/errors.ts (tested with errors.ts), so it is built with it here.
 */
import { describe, expect, it } from 'vitest';
import {
  ArgumentError,
  ConvkitError,
  Generator,
  OutOfMemoryError,
  ShapeError,
  Tensor,
  arange,
  full,
  manualSeed,
  matmul,
  max,
  mean,
  mul,
  ones,
  permute,
  rand,
  randn,
  reshape,
  sum,
  tensor,
  transpose,
  view,
  zeros,
  add,
  describeValue,
  div,
} from '../../lib/index.js';

type ErrorClass = typeof ShapeError | typeof ArgumentError | typeof OutOfMemoryError;
const CODES = new Map<ErrorClass, string>([
  [ShapeError, 'ERR_SHAPE'],
  [ArgumentError, 'ERR_ARGUMENT'],
  [OutOfMemoryError, 'ERR_OOM'],
]);

/** Expects `fn` to throw exactly `cls` with `message`, as a ConvkitError carrying the class's code. */
function expectError(fn: () => unknown, cls: ErrorClass, message: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught, 'should throw').toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(ConvkitError);
  const err = caught as ConvkitError;
  expect(err.message).toBe(message);
  expect(err.code).toBe(CODES.get(cls));
  expect(err.name).toBe(cls.name);
}

const m23 = zeros([2, 3]);

describe('shape errors name both shapes and the op', () => {
  it('matmul with differing inner dimensions (the vitest matcher style works too)', () => {
    const f = () => matmul(zeros([2, 3]), zeros([4, 5]));
    expect(f).toThrow(ShapeError);
    expect(f).toThrow(/^matmul: cannot multiply shapes \[2, 3\] and \[4, 5\] \(inner dimensions 3 and 4 differ\)$/);
    expectError(f, ShapeError, 'matmul: cannot multiply shapes [2, 3] and [4, 5] (inner dimensions 3 and 4 differ)');
  });

  it('matmul with vectors', () => {
    expectError(
      () => matmul(zeros([3]), zeros([4])),
      ShapeError,
      'matmul: cannot multiply shapes [3] and [4] (inner dimensions 3 and 4 differ)',
    );
    expectError(
      () => matmul(zeros([2, 3]), zeros([2])),
      ShapeError,
      'matmul: cannot multiply shapes [2, 3] and [2] (inner dimensions 3 and 2 differ)',
    );
  });

  it('matmul with batch dimensions that do not broadcast', () => {
    expectError(
      () => matmul(zeros([2, 3, 4]), zeros([3, 4, 5])),
      ShapeError,
      'matmul: cannot multiply shapes [2, 3, 4] and [3, 4, 5] (batch dimensions [2] and [3] cannot be broadcast)',
    );
  });

  it('matmul with a 0-d operand', () => {
    expectError(
      () => matmul(tensor(2), zeros([3])),
      ShapeError,
      'matmul: both operands need at least one dimension, received shapes [] and [3]',
    );
  });

  it('add with shapes that do not broadcast', () => {
    const f = () => add(m23, zeros([4]));
    expect(f).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast/);
    expectError(
      f,
      ShapeError,
      'add: shapes [2, 3] and [4] cannot be broadcast (sizes 3 and 4 at dimension -1 differ and neither is 1)',
    );
  });

  it('broadcast errors name the first mismatching dimension from the right, and the method reports the op', () => {
    expectError(
      () => zeros([5, 3, 4]).mul(zeros([2, 1, 4])),
      ShapeError,
      'mul: shapes [5, 3, 4] and [2, 1, 4] cannot be broadcast (sizes 5 and 2 at dimension -3 differ and neither is 1)',
    );
  });

  it('tensor() with a data length that does not match the shape', () => {
    expectError(
      () => tensor([1, 2, 3, 4, 5], [2, 3]),
      ShapeError,
      'tensor: data has 5 elements but shape [2, 3] needs 6',
    );
    expectError(
      () => tensor(new Float32Array(5), [2, 3]),
      ShapeError,
      'tensor: data has 5 elements but shape [2, 3] needs 6',
    );
    expectError(() => tensor([[1, 2], [3, 4]], [3]), ShapeError, 'tensor: data has 4 elements but shape [3] needs 3');
  });

  it('new Tensor() with a buffer that does not match the shape', () => {
    expectError(
      () => new Tensor(new Float32Array(5), [2, 3]),
      ShapeError,
      'Tensor: data has 5 elements but shape [2, 3] needs 6',
    );
  });

  it('ragged nested arrays', () => {
    expectError(
      () => tensor([[1, 2, 3], [4, 5]]),
      ShapeError,
      'tensor: ragged nested array: data[1] has 2 elements but data[0] has 3',
    );
    expectError(
      () => tensor([[[1], [2]], [[3], [4, 5]]]),
      ShapeError,
      'tensor: ragged nested array: data[1][1] has 2 elements but data[0][0] has 1',
    );
    expectError(
      () => tensor([1, [2]] as never),
      ShapeError,
      'tensor: ragged nested array: data[1] is an array but data[0] is a number',
    );
    expectError(
      () => tensor([[1], 2] as never),
      ShapeError,
      'tensor: ragged nested array: data[1] is a number but data[0] is an array',
    );
  });
});

describe('invalid shapes use one wording everywhere', () => {
  it('negative and fractional dimensions', () => {
    expectError(
      () => zeros([2, -1]),
      ShapeError,
      'zeros: invalid shape [2, -1]: dimensions must be non-negative integers',
    );
    expectError(
      () => ones(2, 1.5),
      ShapeError,
      'ones: invalid shape [2, 1.5]: dimensions must be non-negative integers',
    );
    expectError(
      () => full([NaN], 1),
      ShapeError,
      'full: invalid shape [NaN]: dimensions must be non-negative integers',
    );
    expectError(
      () => rand([3, -2]),
      ShapeError,
      'rand: invalid shape [3, -2]: dimensions must be non-negative integers',
    );
    expectError(
      () => tensor([1, 2], [2, 0.5]),
      ShapeError,
      'tensor: invalid shape [2, 0.5]: dimensions must be non-negative integers',
    );
    expectError(
      () => new Tensor(new Float32Array(2), [-2]),
      ShapeError,
      'Tensor: invalid shape [-2]: dimensions must be non-negative integers',
    );
    expectError(
      () => zeros([2, '3'] as never),
      ShapeError,
      "zeros: invalid shape [2, '3']: dimensions must be non-negative integers",
    );
  });

  it('a shape that is not an array', () => {
    expectError(
      () => ones('abc' as never),
      ArgumentError,
      "Expected an array of non-negative integers for the shape of ones() but received 'abc' of type string",
    );
    expectError(
      () => (zeros as (...a: unknown[]) => unknown)(),
      ArgumentError,
      'Expected an array of non-negative integers for the shape of zeros() but received undefined',
    );
  });

  it('shapes with too many elements, or too large to allocate', () => {
    expectError(
      () => zeros([2 ** 30, 2 ** 30, 2 ** 30]),
      ShapeError,
      'zeros: shape [1073741824, 1073741824, 1073741824] has too many elements (1.2379400392853803e+27)',
    );
    let caught: unknown;
    try {
      zeros([2 ** 45]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(OutOfMemoryError);
    expect((caught as Error).message).toMatch(/^zeros: cannot allocate 35184372088832 float32 elements \(/);
  });
});

describe('argument errors name the index or value', () => {
  it('non-numeric data', () => {
    expectError(
      () => tensor([[1, 2], [3, 'x']] as never),
      ArgumentError,
      "Expected a number for data[1][1] of tensor() but received 'x' of type string",
    );
    expectError(
      () => tensor([1, null, 3] as never),
      ArgumentError,
      'Expected a number for data[1] of tensor() but received null',
    );
    expectError(
      () => tensor([[1, 2], { a: 1 }] as never),
      ArgumentError,
      'Expected an array for data[1] of tensor() but received an object of type Object',
    );
    expectError(
      () => tensor('abc' as never),
      ArgumentError,
      "Expected a number, an array of numbers or a typed array for the data of tensor() but received 'abc' of type string",
    );
    expectError(
      () => tensor(new BigInt64Array(2) as never),
      ArgumentError,
      'Expected a number, an array of numbers or a typed array for the data of tensor() but received an object of type BigInt64Array',
    );
  });

  it('an array that contains itself', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expectError(
      () => tensor(cyclic as never),
      ShapeError,
      'tensor: data is nested more than 64 levels deep (is an array inside itself?)',
    );
  });

  it('NaN and infinities are numbers, so they are accepted', () => {
    const t = tensor([NaN, Infinity, -Infinity]);
    expect(Number.isNaN(t.data[0])).toBe(true);
    expect(t.data[1]).toBe(Infinity);
    expect(t.data[2]).toBe(-Infinity);
  });

  it('operands of the wrong type', () => {
    expectError(
      () => mul(m23, '2' as never),
      ArgumentError,
      "Expected a Tensor or a number for the second operand of mul() but received '2' of type string",
    );
    expectError(
      () => div([1, 2] as never, m23),
      ArgumentError,
      `Expected a Tensor or a number for the first operand of div() but received ${describeValue([1, 2])}`,
    );
    expectError(
      () => matmul(m23, [[1]] as never),
      ArgumentError,
      `Expected a Tensor for the second operand of matmul() but received ${describeValue([[1]])}`,
    );
    expectError(
      () => sum({ data: new Float32Array(1), shape: [1] } as never),
      ArgumentError,
      'Expected a Tensor for the input of sum() but received an object of type Object',
    );
    expectError(
      () => new Tensor([1, 2] as never),
      ArgumentError,
      `Expected a Float32Array for the data of new Tensor() but received ${describeValue([1, 2])}`,
    );
  });

  it('item() and get()', () => {
    expectError(
      () => m23.item(),
      ShapeError,
      'item: a tensor of shape [2, 3] has 6 elements; item() needs exactly one',
    );
    expectError(() => m23.get(2, 0), ArgumentError, 'get: index 2 is out of range for dimension 0 of size 2');
    expectError(() => m23.get(0, -4), ArgumentError, 'get: index -4 is out of range for dimension 1 of size 3');
    expectError(() => m23.get(0), ArgumentError, 'get: a tensor of shape [2, 3] needs 2 indices, received 1');
    expectError(
      () => m23.get(0, 0.5),
      ArgumentError,
      'Expected an integer for index 1 of get() but received 0.5 of type number',
    );
  });
});

describe('axes', () => {
  it('out of range', () => {
    const f = () => sum(m23, 3);
    expect(f).toThrow(/sum: axis 3 is out of range for a tensor of rank 2/);
    expectError(f, ShapeError, 'sum: axis 3 is out of range for a tensor of rank 2 (expected -2..1)');
    expectError(
      () => mean(m23, [0, -3]),
      ShapeError,
      'mean: axis -3 is out of range for a tensor of rank 2 (expected -2..1)',
    );
    expectError(
      () => max(tensor(1), 1),
      ShapeError,
      'max: axis 1 is out of range for a tensor of rank 0 (expected -1..0)',
    );
  });

  it('repeated or not integers', () => {
    expectError(() => sum(m23, [1, -1]), ShapeError, 'sum: axis -1 appears more than once in [1, -1]');
    expectError(
      () => mean(m23, 0.5),
      ArgumentError,
      'Expected an integer for the axis of mean() but received 0.5 of type number',
    );
    expectError(
      () => sum(m23, 0, { keepdim: 'yes' } as never),
      ArgumentError,
      "Expected a boolean for keepdim of sum() but received 'yes' of type string",
    );
  });

  it('max of nothing', () => {
    expectError(() => max(zeros([0])), ShapeError, 'max: cannot take the max of an empty tensor (shape [0])');
    expectError(
      () => max(zeros([2, 0]), 1),
      ShapeError,
      'max: cannot reduce over dimension 1 of size 0 (shape [2, 0])',
    );
    expect(max(zeros([2, 0]), 0).shape).toEqual([0]); // reducing a non-empty dimension of an empty tensor is fine
  });
});

describe('layout errors', () => {
  it('reshape / view sizes', () => {
    expectError(
      () => reshape(m23, [4, 2]),
      ShapeError,
      'reshape: cannot reshape a tensor of shape [2, 3] (6 elements) into shape [4, 2] (8 elements)',
    );
    expectError(
      () => m23.view(4, -1),
      ShapeError,
      'view: cannot reshape a tensor of shape [2, 3] (6 elements) into shape [4, -1]',
    );
    expectError(() => view(m23, [-1, -1]), ShapeError, 'view: only one dimension can be -1, received [-1, -1]');
    expectError(
      () => reshape(zeros([0, 3]), [0, -1]),
      ShapeError,
      'reshape: cannot infer the -1 in [0, -1] for a tensor of shape [0, 3] (0 elements): the other dimensions multiply to 0',
    );
    expectError(
      () => reshape(m23, [2, -3]),
      ShapeError,
      'reshape: invalid shape [2, -3]: dimensions must be non-negative integers, or -1 once',
    );
  });

  it('transpose and permute dims', () => {
    expectError(
      () => transpose(m23, 0, 2),
      ShapeError,
      'transpose: dim 2 is out of range for a tensor of rank 2 (expected -2..1)',
    );
    expectError(
      () => transpose(zeros([2, 3, 4])),
      ShapeError,
      'transpose: a tensor of rank 3 (shape [2, 3, 4]) needs the two dims to swap',
    );
    expectError(
      () => transpose(m23, 0),
      ArgumentError,
      'transpose: give both dims to swap, or neither for a 2-d tensor',
    );
    expectError(
      () => permute(m23, [0, 0]),
      ShapeError,
      'permute: dims [0, 0] repeat a dimension; expected a permutation of 0..1',
    );
    expectError(
      () => permute(m23, [-1, 1]),
      ShapeError,
      'permute: dims [-1, 1] repeat a dimension; expected a permutation of 0..1',
    );
    expectError(
      () => m23.permute(0, 1, 2),
      ShapeError,
      'permute: a tensor of shape [2, 3] needs 2 dims, received 3: [0, 1, 2]',
    );
    expectError(
      () => m23.squeeze(2),
      ShapeError,
      'squeeze: dim 2 is out of range for a tensor of rank 2 (expected -2..1)',
    );
    expectError(
      () => m23.unsqueeze(3),
      ShapeError,
      'unsqueeze: dim 3 is out of range for a tensor of rank 2 (expected -3..2)',
    );
  });
});

describe('creation and random arguments', () => {
  it('arange', () => {
    expectError(() => arange(0, 5, 0), ArgumentError, 'arange: step must be nonzero');
    expectError(
      () => arange(5, 0, 1),
      ArgumentError,
      'arange: cannot go from 5 to 0 with step 1 (the step must point from start to end)',
    );
    expectError(
      () => arange(0, 5, -1),
      ArgumentError,
      'arange: cannot go from 0 to 5 with step -1 (the step must point from start to end)',
    );
    expectError(
      () => arange(Infinity),
      ArgumentError,
      'Expected a finite number for the end of arange() but received Infinity of type number',
    );
    expectError(
      () => arange(0, NaN),
      ArgumentError,
      'Expected a finite number for the end of arange() but received NaN of type number',
    );
    expectError(
      () => arange(0, 1, '1' as never),
      ArgumentError,
      "Expected a finite number for the step of arange() but received '1' of type string",
    );
  });

  it('full value', () => {
    expectError(
      () => full([2], '1' as never),
      ArgumentError,
      "Expected a number for the value of full() but received '1' of type string",
    );
  });

  it('seeds and generator options', () => {
    const expected = 'an integer seed (a safe integer or a bigint of at most 64 bits)';
    expectError(
      () => new Generator(1.5),
      ArgumentError,
      `Expected ${expected} for the seed of Generator.seed() but received 1.5 of type number`,
    );
    expectError(
      () => manualSeed('7' as never),
      ArgumentError,
      `Expected ${expected} for the seed of manualSeed() but received '7' of type string`,
    );
    expectError(
      () => rand([2], { seed: 2 ** 60 }),
      ArgumentError,
      `Expected ${expected} for the seed of rand() but received 1152921504606847000 of type number`,
    );
    expectError(
      () => randn([2], { seed: 1, generator: new Generator(1) }),
      ArgumentError,
      'randn: pass either generator or seed, not both',
    );
    expectError(
      () => rand([2], { generator: {} as never }),
      ArgumentError,
      'Expected a Generator for the generator of rand() but received an object of type Object',
    );
  });

  it('generator states', () => {
    const g = new Generator(1);
    expectError(
      () => g.setState(null as never),
      ArgumentError,
      'Expected a GeneratorState object for the state of setState() but received null',
    );
    expectError(
      () => g.setState({ algorithm: 'pcg32' as never, state: [1, 2, 3, 4], spareNormal: null }),
      ArgumentError,
      "Expected 'xoshiro128**' for state.algorithm of setState() but received 'pcg32' of type string",
    );
    expectError(
      () => g.setState({ algorithm: 'xoshiro128**', state: [1, 2, 3, 2 ** 32], spareNormal: null }),
      ArgumentError,
      `Expected four unsigned 32-bit integers for state.state of setState() but received ${describeValue([1, 2, 3, 2 ** 32])}`,
    );
    expectError(
      () => g.setState({ algorithm: 'xoshiro128**', state: [0, 0, 0, 0], spareNormal: null }),
      ArgumentError,
      'setState: the all-zero state is invalid for xoshiro128**',
    );
    // A failed setState leaves the generator as it was.
    const before = new Generator(1).nextUint32();
    expect(g.nextUint32()).toBe(before);
  });
});
