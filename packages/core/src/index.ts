/**
 * @hunch/core: what the browser SDK, the collector and the trainer share. The event schema
 * and its validation, the encoding of behaviour into model tokens, the catalog and model
 * manifest formats with the model contract between exporter and browser, the privacy
 * scrubbing of event parameters, the upload format, experiment assignment, and the strategy
 * policies that the browser decides with and the trainer learns.
 */
export { DECISION_EVENT, EVENT_NAMES, EXPOSURE_EVENT, isBehaviourEvent, isEventName, validateEvent, validateParams } from './events.js';
export type { EventItem, EventName, EventParams, HunchEvent, Validation } from './events.js';

export { byteAlphabet, learnMerges } from './bpe.js';
export type { Merge } from './bpe.js';
export {
  buildVocabulary,
  encodeHistory,
  ENCODING_VERSION,
  END_OF_TEXT_TOKEN,
  isItemToken,
  itemIdOfToken,
  itemToken,
  MAX_SEARCH_PIECES,
  SPECIAL_TOKENS,
  UNK_TOKEN,
  Vocabulary,
  VocabularyCounts,
} from './encoding.js';
export type { VocabularyOptions } from './encoding.js';

export { CATALOG_FILE, catalogJson, indexCatalog, parseCatalog } from './catalog.js';
export type { CatalogIndex, CatalogItem, ShopCatalog } from './catalog.js';
export { ATTR_BIAS, ATTR_TABLE, ATTRIBUTE_FILE, ATTRIBUTE_NAMES_KEY, attributeFieldsError, priceBucket, productAttributes } from './item-attributes.js';
export {
  CATALOG_INDEX_FILE,
  CATALOG_INDEX_POPULAR,
  CATALOG_SHARD_BYTES,
  CATALOG_SHARD_THRESHOLD,
  CATALOG_SHARDS_FORMAT,
  CATALOG_SHARDS_FORMAT_VERSION,
  CATALOG_SHARD_LISTING,
  catalogShardFile,
  catalogShardOf,
  parseCatalogShardsIndex,
} from './catalog-shards.js';
export type { CatalogShardsIndex } from './catalog-shards.js';
export { MANIFEST_FILE, MANIFEST_FORMAT, MANIFEST_FORMAT_VERSION, parseManifest, vocabularySize } from './manifest.js';
export {
  ITEM_ID_SHARD_LISTING,
  ITEM_IDS_PER_SHARD,
  ITEM_TOKEN_SHARD_LISTING,
  ITEM_TOKENS_PER_SHARD,
  ITEM_VOCABULARY_THRESHOLD,
  itemIdShardFile,
  itemIdShardOf,
  itemTokenShardCount,
  itemTokenShardFile,
  itemTokenShardOf,
  joinVocabulary,
  parseItemIdShard,
  parseItemTokenShard,
  splitVocabulary,
} from './item-vocabulary.js';
export type { ItemVocabularyLayout, ItemVocabularyManifest, SplitVocabulary } from './item-vocabulary.js';
export { compactListing, decodeShardListing, encodeShardListing, listedShards, SHARD_FAMILIES, SHARD_LISTING_RECORD_BYTES } from './shard-listing.js';
export type { ShardFamily, ShardListing } from './shard-listing.js';
export type { HunchManifest, ModelFileEntry, OnnxManifest } from './manifest.js';
export {
  blockPrefix,
  CONSTANT_PREFIX,
  COSINE_SCALE,
  FINAL_NORM,
  float16Values,
  fromFloat16Bits,
  GPT2_ENGINE_PRODUCER_VERSIONS,
  HEAD_SHAPE,
  int8Codes,
  int8Scales,
  ITEM_BIAS,
  ITEM_TABLE,
  LOGITS_OUTPUT,
  MODEL_PRODUCER,
  MODEL_PRODUCER_VERSION,
  ONNX_VARIANT_FILES,
  ONNX_VARIANTS,
  POSITION_TABLE,
  PQ_CENTROIDS,
  pqCodebooks,
  pqCodes,
  pqRotation,
  REPEAT_BIAS,
  REPEAT_WEIGHT,
  toFloat16Bits,
} from './model-contract.js';
export type { OnnxVariant } from './model-contract.js';

export { scrubParams } from './privacy.js';

export { chunkEvents, MAX_UPLOAD_BYTES, parseUploadBatch, parseUploadResponse, UPLOAD_VERSION } from './upload.js';
export { isPostgresUrl, locationName } from './store-location.js';
export type { Chunked, ParsedUpload, UploadBatch, UploadChunk, UploadRejection, UploadResponse } from './upload.js';

export { assign, DEFAULT_HOLDOUT, HOLDOUT_ARMS, inHoldout } from './experiments/assignment.js';
export type { Assignment, ExperimentConfig, HoldoutConfig } from './experiments/assignment.js';

export {
  actionProbabilities,
  actionScore,
  DECISION_FEATURES,
  decisionFeatures,
  drawAction,
  FUNNEL_STAGES,
  NO_ACTION,
  POLICY_VERSION,
  validatePolicy,
} from './strategies/policy.js';
export type { ActionProbabilities, DecisionContext, DecisionStage, PolicyCheck, PolicyFile } from './strategies/policy.js';

export { fitLogistic } from './intent/logistic.js';
export type { LogisticFit, LogisticOptions } from './intent/logistic.js';
export {
  featureRow,
  SESSION_BEHAVIOUR_FEATURES,
  SESSION_PURCHASE_FEATURES,
  SESSION_PURCHASE_VERSION,
  sessionPurchaseFeatures,
  sessionPurchaseProbability,
  validateSessionPurchaseModel,
} from './intent/session-purchase.js';
export type { SessionEventLike, SessionPurchaseCheck, SessionPurchaseFeature, SessionPurchaseModel } from './intent/session-purchase.js';
