/**
 * Synthetic gradient-boosted trees in XGBoost's own JSON model format (what `Booster.save_model`
 * writes for `binary:logistic`), for benchmarks: full trees of a given depth on `features` inputs
 * named f0…fN-1, uniformly distributed in [0, 100). Seeded, so every run measures the same model.
 */
import { seededRandom } from '../../services/ml-server/inference/index.ts';

export interface GbdtOptions {
  trees: number;
  depth: number;
  features: number;
  seed?: number;
}

const f32 = (x: number) => Number(Math.fround(x).toPrecision(8));

export function syntheticGbdt(opts: GbdtOptions): object {
  const random = seededRandom(opts.seed ?? 20240611);
  const nodes = 2 ** (opts.depth + 1) - 1;
  const internal = 2 ** opts.depth - 1;
  const trees = [];
  for (let t = 0; t < opts.trees; t++) {
    const left: number[] = [];
    const right: number[] = [];
    const parents: number[] = [];
    const splitIndices: number[] = [];
    const splitConditions: number[] = [];
    const defaultLeft: number[] = [];
    const baseWeights: number[] = [];
    const lossChanges: number[] = [];
    const sumHessian: number[] = [];
    for (let i = 0; i < nodes; i++) {
      const isInternal = i < internal;
      left.push(isInternal ? 2 * i + 1 : -1);
      right.push(isInternal ? 2 * i + 2 : -1);
      parents.push(i === 0 ? 2147483647 : Math.floor((i - 1) / 2));
      splitIndices.push(isInternal ? Math.floor(random() * opts.features) : 0);
      const leaf = f32((random() - 0.5) * 0.2);
      splitConditions.push(isInternal ? f32(5 + random() * 90) : leaf);
      defaultLeft.push(isInternal && random() < 0.5 ? 1 : 0);
      baseWeights.push(isInternal ? f32((random() - 0.5) * 2) : f32(leaf * 10));
      lossChanges.push(isInternal ? f32(random() * 50) : 0);
      sumHessian.push(f32(1 + random() * 100));
    }
    trees.push({
      base_weights: baseWeights,
      categories: [],
      categories_nodes: [],
      categories_segments: [],
      categories_sizes: [],
      default_left: defaultLeft,
      id: t,
      left_children: left,
      loss_changes: lossChanges,
      parents,
      right_children: right,
      split_conditions: splitConditions,
      split_indices: splitIndices,
      split_type: new Array<number>(nodes).fill(0),
      sum_hessian: sumHessian,
      tree_param: { num_deleted: '0', num_feature: String(opts.features), num_nodes: String(nodes), size_leaf_vector: '0' },
    });
  }
  return {
    learner: {
      attributes: {},
      feature_names: Array.from({ length: opts.features }, (_, i) => `f${i}`),
      feature_types: [],
      gradient_booster: {
        model: {
          gbtree_model_param: { num_parallel_tree: '1', num_trees: String(opts.trees), size_leaf_vector: '0' },
          tree_info: new Array<number>(opts.trees).fill(0),
          trees,
        },
        name: 'gbtree',
      },
      learner_model_param: {
        base_score: '5E-1',
        boost_from_average: '1',
        num_class: '0',
        num_feature: String(opts.features),
        num_target: '1',
      },
      objective: { name: 'binary:logistic', reg_loss_param: { scale_pos_weight: '1' } },
    },
    version: [1, 7, 4],
  };
}

/** Enough trees of `depth` for an artifact of about `bytes`. */
export function gbdtOfSize(bytes: number, depth: number, features: number): { artifact: string; trees: number } {
  const probe = JSON.stringify(syntheticGbdt({ trees: 10, depth, features }));
  const trees = Math.max(1, Math.round((bytes / probe.length) * 10));
  return { artifact: JSON.stringify(syntheticGbdt({ trees, depth, features, seed: 7 })), trees };
}
