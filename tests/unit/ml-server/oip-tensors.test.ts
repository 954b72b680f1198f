import { describe, expect, it } from 'vitest';
import type { InputSchema, OutputSchema } from '../../../services/ml-server/inference/index.ts';
import { inputsToRows, OipRequestError, outputsToTensors } from '../../../services/ml-server/oip/tensors.ts';

const schema = (categorical = false): InputSchema => ({
  features: [
    { name: 'a', type: 'numeric', datatype: 'FP64', required: false, produces: ['a'] },
    categorical
      ? { name: 'b', type: 'categorical', datatype: 'BYTES', required: false, categories: ['x', 'y'], produces: ['b=x', 'b=y'] }
      : { name: 'b', type: 'numeric', datatype: 'FP64', required: false, produces: ['b'] },
  ],
  modelFeatures: ['a', 'b'],
  missingValues: 'native',
});

describe('OIP inputs', () => {
  it('maps one tensor per feature to rows, with null as missing and BOOL as 0/1', () => {
    const rows = inputsToRows(
      [
        { name: 'a', shape: [3], datatype: 'FP32', data: [1, null, 3] },
        { name: 'b', shape: [3, 1], datatype: 'BOOL', data: [[true], [false], [true]] },
      ],
      schema(),
      10,
    );
    expect(rows).toEqual([
      { a: 1, b: 1 },
      { a: null, b: 0 },
      { a: 3, b: 1 },
    ]);
    expect(inputsToRows([{ name: 'a', shape: [1], datatype: 'FP64', data: [2] }], schema(), 10)).toEqual([{ a: 2 }]);
  });

  it('maps a packed [n, F] tensor by the input feature order, flat or nested', () => {
    const flat = inputsToRows([{ name: 'input', shape: [2, 2], datatype: 'FP64', data: [1, 2, 3, 4] }], schema(), 10);
    const nested = inputsToRows(
      [
        {
          name: 'input',
          shape: [2, 2],
          datatype: 'FP64',
          data: [
            [1, 2],
            [3, 4],
          ],
        },
      ],
      schema(),
      10,
    );
    expect(flat).toEqual([
      { a: 1, b: 2 },
      { a: 3, b: 4 },
    ]);
    expect(nested).toEqual(flat);
  });

  it('refuses what cannot be mapped, with a message', () => {
    const bad =
      (inputs: any[], categorical = false, max = 10) =>
      () =>
        inputsToRows(inputs, schema(categorical), max);
    expect(bad([])).toThrow(/no inputs/);
    expect(bad([{ name: 'c', shape: [1], datatype: 'FP64', data: [1] }])).toThrow(/unknown input 'c'/);
    expect(bad([{ name: 'a', shape: [2], datatype: 'FP64', data: [1] }])).toThrow(/1 values/);
    expect(bad([{ name: 'a', shape: [1], datatype: 'FP8', data: [1] }])).toThrow(/unknown datatype/);
    expect(bad([{ name: 'a', shape: [1], datatype: 'INT32', data: [1.5] }])).toThrow(/not an integer/);
    expect(bad([{ name: 'a', shape: [1], datatype: 'UINT8', data: [-1] }])).toThrow(/negative/);
    expect(bad([{ name: 'a', shape: [1], datatype: 'BYTES', data: ['1'] }])).toThrow(/numeric/);
    expect(bad([{ name: 'b', shape: [1], datatype: 'BYTES', data: [1] }], true)).toThrow(/not a string/);
    expect(bad([{ name: 'input', shape: [1, 2], datatype: 'FP64', data: [1, 2] }], true)).toThrow(/categorical/);
    expect(bad([{ name: 'a', shape: [3], datatype: 'FP64', data: [1, 2, 3] }], false, 2)).toThrow(/at most 2 rows/);
    expect(
      bad([
        { name: 'a', shape: [1], datatype: 'FP64', data: [1] },
        { name: 'a', shape: [1], datatype: 'FP64', data: [1] },
      ]),
    ).toThrow(/twice/);
    try {
      bad([{ name: 'c', shape: [1], datatype: 'FP64', data: [1] }])();
    } catch (err) {
      expect(err).toBeInstanceOf(OipRequestError);
      expect((err as OipRequestError).status).toBe(400);
    }
  });
});

describe('OIP outputs', () => {
  const classification: OutputSchema = {
    task: 'classification',
    classes: ['miss', 'hit'],
    outputs: [
      { name: 'label', datatype: 'BYTES', shape: [-1] },
      { name: 'probabilities', datatype: 'FP64', shape: [-1, 2] },
    ],
  };
  it('builds label and probability tensors in class order, and filters by name', () => {
    const outputs = [
      { label: 'hit', class_index: 1, probabilities: { hit: 0.7, miss: 0.3 } },
      { label: 'miss', class_index: 0, probabilities: { miss: 0.9, hit: 0.1 } },
    ];
    expect(outputsToTensors(outputs, classification)).toEqual([
      { name: 'label', datatype: 'BYTES', shape: [2], data: ['hit', 'miss'] },
      { name: 'probabilities', datatype: 'FP64', shape: [2, 2], data: [0.3, 0.7, 0.9, 0.1] },
    ]);
    expect(outputsToTensors(outputs, classification, [{ name: 'label' }]).map((t) => t.name)).toEqual(['label']);
    expect(() => outputsToTensors(outputs, classification, [{ name: 'x' }])).toThrow(/unknown output 'x'/);
    expect(outputsToTensors([{ value: 2 }], { task: 'regression', outputs: [] })).toEqual([
      { name: 'predict', datatype: 'FP64', shape: [1], data: [2] },
    ]);
  });
});
