export { registerEncoder, EncoderCache } from './encoders.ts';
export { headWeights, loadHead, ProjectorCache } from './heads.ts';
export {
  loadAnomalyReferences,
  loadReferences,
  onlySources,
  scorerFor,
  type ReferenceSet,
} from './references.ts';
export { scorePool, type PoolScoringProgress } from './pool-scoring.ts';
export { pipelinePages } from './pages.ts';
export { Classifier, MAX_CLASSIFY_K, type Classification } from './classifier.ts';
export { catchUpVectorSet } from './catch-up.ts';
export {
  checkEnoughImages,
  prepareTrainingImages,
  checkFineTuneLabels,
  MIN_FINE_TUNE_LABELS,
  registerTrainedEncoder,
  trainingInput,
  MIN_TRAINING_IMAGES,
  type PreparedImages,
  type TrainedSidecar,
} from './encoder-training.ts';
