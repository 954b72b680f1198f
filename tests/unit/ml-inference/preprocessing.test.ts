import { describe, expect, it } from 'vitest';
import { InputValidationError, loadModel, ModelArtifactError } from '../../../services/ml-server/inference/index.ts';
import type { LoadedModel } from '../../../services/ml-server/inference/index.ts';

// value = 10 + 2·distance_z + 1·weapon=rifle + 3·weapon=bow − 4·weapon=muzzleloader + 0.5·wind
const artifact = {
  format: 'linear',
  feature_names: ['wind', 'weapon=rifle', 'weapon=bow', 'weapon=muzzleloader', 'distance'],
  coefficients: [0.5, 1, 3, -4, 2],
  intercept: 10,
  preprocessing: {
    features: [
      { name: 'distance', type: 'numeric', default: 150, standardize: { mean: 100, std: 50 } },
      { name: 'weapon', type: 'categorical', categories: ['rifle', 'bow', 'muzzleloader'], default: 'rifle' },
    ],
  },
};
const model = loadModel(artifact);
const value = (m: LoadedModel, row: Record<string, unknown>): number => {
  const p = m.predict([row])[0]!;
  if (p.task !== 'regression') throw new Error('regression expected');
  return p.value;
};

function thrown(fn: () => unknown): InputValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof InputValidationError) return err;
    throw err;
  }
  throw new Error('did not throw');
}

describe('preprocessing', () => {
  it('standardises, one-hot encodes and passes other features through, in the model order', () => {
    // distance 200 → (200 − 100) / 50 = 2; bow → [0, 1, 0]
    expect(value(model, { distance: 200, weapon: 'bow', wind: 4 })).toBe(10 + 2 * 2 + 3 + 0.5 * 4);
    expect(value(model, { distance: 100, weapon: 'muzzleloader', wind: 0 })).toBe(10 - 4);
  });

  it('substitutes defaults (in raw units) for absent, null and NaN values', () => {
    // distance default 150 → 1; weapon default rifle
    const expected = 10 + 2 * 1 + 1 + 0.5 * 2;
    expect(value(model, { wind: 2 })).toBe(expected);
    expect(value(model, { wind: 2, distance: null, weapon: null })).toBe(expected);
    expect(value(model, { wind: 2, distance: NaN })).toBe(expected);
  });

  it('describes the inputs it expects', () => {
    expect(model.inputSchema.modelFeatures).toEqual(artifact.feature_names);
    expect(model.inputSchema.features).toEqual([
      {
        name: 'distance',
        type: 'numeric',
        datatype: 'FP64',
        required: false,
        default: 150,
        standardize: { mean: 100, std: 50 },
        produces: ['distance'],
      },
      {
        name: 'weapon',
        type: 'categorical',
        datatype: 'BYTES',
        required: false,
        default: 'rifle',
        categories: ['rifle', 'bow', 'muzzleloader'],
        unknownCategory: 'error',
        produces: ['weapon=rifle', 'weapon=bow', 'weapon=muzzleloader'],
      },
      { name: 'wind', type: 'numeric', datatype: 'FP64', required: true, produces: ['wind'] },
    ]);
  });

  it('names the feature at fault', () => {
    let e = thrown(() => model.predict([{ wind: 1 }, { distance: 10 }]));
    expect(e.message).toBe("row 1: feature 'wind' is required but missing (it has no default)");
    expect([e.feature, e.row, e.reason]).toEqual(['wind', 1, 'missing']);
    e = thrown(() => model.predict([{ wind: 1, distance: -Infinity }]));
    expect([e.feature, e.reason, e.message]).toEqual([
      'distance',
      'not_finite',
      "row 0: feature 'distance' must be a finite number, got -Infinity",
    ]);
    e = thrown(() => model.predict([{ wind: '3' }]));
    expect([e.feature, e.reason]).toEqual(['wind', 'wrong_type']);
    e = thrown(() => model.predict([{ wind: 1, weapon: 'crossbow' }]));
    expect(e.message).toBe('row 0: feature \'weapon\' has the unknown category "crossbow" (known: rifle, bow, muzzleloader)');
    expect([e.feature, e.reason]).toEqual(['weapon', 'unknown_category']);
    e = thrown(() => model.predict([{ wind: 1, weapon: { kind: 'bow' } }]));
    expect([e.feature, e.reason]).toEqual(['weapon', 'wrong_type']);
    e = thrown(() => model.predict([null]));
    expect([e.feature, e.row, e.reason]).toEqual(['', 0, 'not_an_object']);
    e = thrown(() => model.predict({ wind: 1 } as unknown as unknown[]));
    expect(e.reason).toBe('not_an_array');
  });

  it('maps an unknown category to all zeros when asked to', () => {
    const zeros = loadModel({
      ...artifact,
      preprocessing: { unknown_category: 'zeros', features: artifact.preprocessing.features },
    });
    expect(value(zeros, { wind: 0, distance: 100, weapon: 'crossbow' })).toBe(10);
    const perFeature = loadModel({
      ...artifact,
      preprocessing: { features: [artifact.preprocessing.features[0], { ...artifact.preprocessing.features[1], unknown: 'zeros' }] },
    });
    expect(value(perFeature, { wind: 0, distance: 100, weapon: 'crossbow' })).toBe(10);
    expect(perFeature.inputSchema.features[1]!.unknownCategory).toBe('zeros');
  });

  it('matches numeric categories by their string form', () => {
    const m = loadModel({
      format: 'linear',
      feature_names: ['zone=1', 'zone=2'],
      coefficients: [1, 2],
      intercept: 0,
      preprocessing: { features: [{ name: 'zone', type: 'categorical', categories: [1, 2] }] },
    });
    expect(value(m, { zone: 2 })).toBe(2);
    expect(value(m, { zone: '1' })).toBe(1);
    expect(() => m.predict([{}])).toThrow("row 0: feature 'zone' is required but missing (it has no default)");
  });

  it('reads features named like Object.prototype members as own properties only', () => {
    const m = loadModel({ format: 'linear', feature_names: ['constructor', 'toString'], coefficients: [1, 1], intercept: 0 });
    expect(value(m, { constructor: 2, toString: 3 })).toBe(5);
    expect(() => m.predict([{ toString: 3 }])).toThrow("row 0: feature 'constructor' is required but missing (it has no default)");
    const parsed = JSON.parse('{"__proto__": 4}');
    const p = loadModel({ format: 'linear', feature_names: ['__proto__'], coefficients: [1], intercept: 0 });
    expect(value(p, parsed)).toBe(4);
  });

  it('leaves missing values to an XGBoost model, unless the feature is required', () => {
    const base = {
      learner: {
        feature_names: ['speed', 'kind=a', 'kind=b'],
        learner_model_param: { base_score: '0E0', num_class: '0', num_feature: '3' },
        objective: { name: 'reg:squarederror' },
        gradient_booster: {
          name: 'gbtree',
          model: {
            tree_info: [0],
            // kind=b < 0.5 (missing → left: leaf 1) else leaf 2
            trees: [
              {
                left_children: [1, -1, -1],
                right_children: [2, -1, -1],
                split_indices: [2, 0, 0],
                split_conditions: [0.5, 1, 2],
                default_left: [1, 0, 0],
              },
            ],
          },
        },
      },
    };
    const features = [
      { name: 'speed', type: 'numeric', required: true },
      { name: 'kind', type: 'categorical', categories: ['a', 'b'] },
    ];
    const m = loadModel({ format: 'xgboost', model: base, preprocessing: { features } });
    expect(m.inputSchema.features.map((f) => [f.name, f.required])).toEqual([
      ['speed', true],
      ['kind', false],
    ]);
    expect(value(m, { speed: 1, kind: 'b' })).toBe(2);
    expect(value(m, { speed: 1, kind: 'a' })).toBe(1);
    expect(value(m, { speed: 1 })).toBe(1); // kind missing → NaN → default_left
    expect(() => m.predict([{ kind: 'a' }])).toThrow("row 0: feature 'speed' is required but missing (it has no default)");
  });

  describe('rejects a bad preprocessing spec', () => {
    const withFeatures = (features: unknown[], featureNames = artifact.feature_names): unknown => ({
      ...artifact,
      feature_names: featureNames,
      coefficients: featureNames.map(() => 1),
      preprocessing: { features },
    });
    const cases: [string, unknown, string][] = [
      [
        'std 0',
        withFeatures([{ name: 'distance', type: 'numeric', standardize: { mean: 1, std: 0 } }]),
        'preprocessing.features[0].standardize.std must be > 0, got 0',
      ],
      [
        'a non-finite mean',
        withFeatures([{ name: 'distance', type: 'numeric', standardize: { mean: null, std: 1 } }]),
        'preprocessing.features[0].standardize.mean must be a finite number, got null',
      ],
      [
        'a feature the model lacks',
        withFeatures([{ name: 'range', type: 'numeric' }]),
        'preprocessing.features[0] produces the feature "range", which is not one of the model\'s features',
      ],
      [
        'a category the model lacks',
        withFeatures([{ name: 'weapon', type: 'categorical', categories: ['rifle', 'sling'] }]),
        'preprocessing.features[0] produces the feature "weapon=sling", which is not one of the model\'s features',
      ],
      [
        'an unknown type',
        withFeatures([{ name: 'distance', type: 'ordinal' }]),
        'preprocessing.features[0].type must be "numeric" or "categorical", got "ordinal"',
      ],
      [
        'a repeated input',
        withFeatures([
          { name: 'distance', type: 'numeric' },
          { name: 'distance', type: 'numeric' },
        ]),
        'preprocessing.features[1].name repeats the input feature "distance"',
      ],
      [
        'a default outside the categories',
        withFeatures([{ name: 'weapon', type: 'categorical', categories: ['rifle'], default: 'bow' }]),
        'preprocessing.features[0].default must be one of the categories, got "bow"',
      ],
      [
        'a repeated category',
        withFeatures([{ name: 'weapon', type: 'categorical', categories: ['bow', 'bow'] }]),
        'preprocessing.features[0].categories[1] repeats the category "bow"',
      ],
      [
        'a misspelt field',
        withFeatures([{ name: 'distance', type: 'numeric', standardise: { mean: 0, std: 1 } }]),
        'preprocessing.features[0].standardise is not a known field (known: name, type, default, standardize, required)',
      ],
      [
        'required with a default',
        withFeatures([{ name: 'distance', type: 'numeric', required: true, default: 1 }]),
        'preprocessing.features[0] cannot be both required and have a default',
      ],
      [
        'a bad unknown policy',
        withFeatures([{ name: 'weapon', type: 'categorical', categories: ['bow'], unknown: 'ignore' }]),
        'preprocessing.features[0].unknown must be "error" or "zeros", got "ignore"',
      ],
      [
        'a categorical input named like a model feature it does not produce',
        withFeatures([{ name: 'wind', type: 'categorical', categories: ['calm'] }], ['wind', 'wind=calm']),
        'preprocessing.features defines the input "wind" but does not produce the model feature of that name',
      ],
    ];
    it.each(cases)('%s', (_name, doc, message) => {
      expect(() => loadModel(doc as object)).toThrow(ModelArtifactError);
      expect(() => loadModel(doc as object)).toThrow(message);
    });
  });
});
