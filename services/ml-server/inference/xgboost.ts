// Gradient-boosted trees from XGBoost's own JSON model format (Booster.save_model('model.json')): the document is read
// and checked in xgboost-json.ts, its trees flattened into one set of typed arrays and run in float32, tree by tree,
// in xgboost-forest.ts, so the results are XGBoost's own. This file puts the two together into a model core.

import type { JsonRecord } from './json.ts';
import { isRecord, join, readRecord } from './json.ts';
import type { Core } from './model.ts';
import { flatten, forestRunner, type Forest } from './xgboost-forest.ts';
import { readClassesAndThreshold, readFeatureNames, readObjective, readTrees, type PathOf, type XGBoostOverrides } from './xgboost-json.ts';

export { SUPPORTED_OBJECTIVES, type XGBoostOverrides } from './xgboost-json.ts';

export interface XGBoostParts {
  readonly core: Core;
  readonly featureNames: string[];
}

export function parseXGBoost(doc: unknown, o: XGBoostOverrides): XGBoostParts {
  const root = readRecord(doc, o.path || 'model');
  const pathOf: PathOf = (p) => join(o.path, p);
  const learner = readRecord(root['learner'], pathOf('learner'));
  const versionRaw = root['version'];
  const version = Array.isArray(versionRaw) ? versionRaw.join('.') : 'unknown';
  const { objective, numFeature, numClass, groups, baseScores, base } = readObjective(learner, pathOf);
  const featureNames = readFeatureNames(learner, o, numFeature, pathOf);
  const { classes, threshold } = readClassesAndThreshold(o, objective, numClass);
  const { trees, treeInfo } = readTrees(learner, groups, numFeature, pathOf);
  const { left, missing, feature, value, roots } = flatten(trees);
  const numTrees = trees.length;
  const reachable = left.length;
  const maxDepth = trees.reduce((deepest, tree) => Math.max(deepest, tree.depth), 0);

  const task = objective === 'reg:squarederror' ? 'regression' : 'classification';
  const forest: Forest = { objective, groups, numFeatures: numFeature, base, left, missing, feature, value, roots, treeGroup: treeInfo };
  const core: Core = {
    format: 'xgboost',
    task,
    numFeatures: numFeature,
    float32: true,
    classes,
    threshold,
    predictionWidth: task === 'regression' ? 1 : classes.length,
    marginWidth: groups,
    approxBytes: left.byteLength * 3 + value.byteLength + roots.byteLength + treeInfo.byteLength + base.byteLength + 1024,
    details: {
      objective,
      trees: numTrees,
      nodes: reachable,
      maxDepth,
      features: numFeature,
      outputGroups: groups,
      baseScore: baseScores.join(','),
      xgboostVersion: version,
    },
    run: forestRunner(forest),
  };
  return { core, featureNames };
}

export function isXGBoostDocument(v: JsonRecord): boolean {
  return isRecord(v['learner']);
}
