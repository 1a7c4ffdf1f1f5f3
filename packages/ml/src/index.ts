export {
  classificationReport,
  precisionRecallCurve,
  auroc,
  type ClassificationReport,
  type ClassMetrics,
  type PrPoint,
} from './metrics.ts';
export { clopperPearsonLower, thresholdForPrecision, type ThresholdChoice } from './threshold.ts';
export {
  roundStrategy,
  selectForLabeling,
  STRATEGIES,
  TYPICAL_LABELS_PER_CLASS,
  type Strategy,
  type Uncertainty,
  type SelectionOptions,
} from './selection.ts';
export { inContentOrder, Reservoir, seededRandom, shuffledIndices } from './random.ts';
export {
  Encoder,
  ModelShapeError,
  type EncoderSidecar,
  type EncoderOptions,
  type ExecutionProvider,
} from './encoder.ts';
export {
  decodePixels,
  ImageDecodeError,
  npyBytes,
  type ImageInput,
  type PixelShape,
} from './pixels.ts';
export {
  trainHead,
  project,
  initialWeights,
  serializeHead,
  deserializeHead,
  DEFAULT_HEAD_CONFIG,
  type HeadConfig,
  type HeadWeights,
  type TrainingReport,
} from './head.ts';
export { HeadProjector } from './head-onnx.ts';
export { InferenceThread, runSteps, type Step, type StepOutput } from './inference-thread.ts';
export { ReferenceSearch } from './knn-onnx.ts';
export {
  vote,
  anomalyDistance,
  anomalyCalibration,
  knnClassify,
  Scorer,
  planAutoAccept,
  ANOMALY_K,
  MIN_NORMAL_LABELS,
  POOL_ANOMALY_SAMPLE,
  type AnomalyReferences,
  type Reference,
  type Vote,
  type References,
  type Score,
  type AutoAcceptPlan,
} from './scoring.ts';
export { tripletLoss, type TripletOptions } from './triplet-loss.ts';
export { tensorflow } from './tf.ts';
export {
  cosineDistance,
  nearestNeighbours,
  normaliseRows,
  pickRows,
  stackRows,
} from './exact-knn.ts';
export {
  decodeSimplePng,
  inflatePixels,
  inflatedSize,
  isPng,
  pngHeader,
  PngBombError,
} from './png.ts';
export { EVAL_LABELS_PER_CLASS, evalSampleSize, minEvalLabels } from './evaluation-policy.ts';
export { kMeans, selectTypical } from './typicality.ts';
export {
  outOfSampleVotes,
  findLabelIssues,
  LABEL_CHECK_K,
  type LabelIssue,
} from './label-issues.ts';
export {
  nearDuplicatePairs,
  nearDuplicateGroups,
  NEAR_DUPLICATE_DISTANCE,
  type NearDuplicatePair,
} from './near-duplicates.ts';
export { imageSignature, signatureOf, SIGNATURE_DIMS, SIGNATURE_SIDE } from './signature.ts';
