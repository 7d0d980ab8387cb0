/**
 * The field names of the Gemini API's v1beta request messages, as data: what `request-schema.ts`
 * compiles into the walk that finds unknown fields. Keys are the proto field names (snake_case);
 * the JSON name is their lowerCamelCase form unless a field says otherwise (`json`), and Google's
 * JSON parser accepts both spellings (proto3 JSON mapping).
 *
 * Sources, read 2026-12-01:
 * - The protos of the v1beta REST surface, googleapis/googleapis at f8291d2b (snapshot of
 *   2026-08-22): `google/ai/generativelanguage/v1beta/{generative_service,content,safety}.proto`,
 *   last changed by bc7e3baa (2025-12-18, GoogleMaps/FileSearch/RetrievalConfig) and d90d23fa
 *   (2026-03-10, no field change). Messages: `GenerateContentRequest`, `EmbedContentRequest`,
 *   `Content`, `Part`, `GenerationConfig`, `Tool`, `ToolConfig`, `SafetySetting`, `Schema`, …
 * - `@google/genai` 3.1.0 (`node_modules/@google/genai/dist/node/index.mjs`): the `*ToMldev`
 *   converters list what the SDK sends to the Gemini Developer API (`partToMldev`, `toolToMldev`,
 *   `generateContentConfigToMldev`, …). Fields newer than the protos come from there (marked
 *   "SDK"); fields the SDK refuses for the Developer API ("only supported in Gemini Enterprise
 *   Agent Platform mode": `routingConfig`, `audioTimestamp`, `SafetySetting.method`,
 *   `FunctionCall.partialArgs`, `Tool.retrieval`, `Tool.enterpriseWebSearch`, …) are left out.
 * - REST reference: https://ai.google.dev/api/generate-content#request-body,
 *   https://ai.google.dev/api/caching#Content, https://ai.google.dev/api/embeddings#request-body.
 *   The discovery document (https://generativelanguage.googleapis.com/$discovery/rest?version=v1beta)
 *   could not be fetched from the build machine; recheck against it when it can.
 *
 * When in doubt a field is listed: a name wrongly listed only lets Gemini refuse the line later (as
 * before this check existed), while a name wrongly missing would reject a line Gemini accepts.
 */

/** A scalar, enum, string, bytes, Duration or Timestamp, or a repeated one: nothing to walk. */
export const VALUE = 'value';
/** `google.protobuf.Struct`/`Value`, a string map, or an object whose fields are not modelled: any names. */
export const FREE = 'free';

/** A field: its value's kind, a message it holds (or holds a list of), or a map of messages. */
export type FieldType = typeof VALUE | typeof FREE | string | { readonly map: string };
/** A field whose JSON name is not the lowerCamelCase of its proto name (proto `json_name`). */
export interface RenamedField {
  readonly type: FieldType;
  readonly json: string;
}
export type FieldSpec = FieldType | RenamedField;

/** Every request message by name: its fields by proto name. */
export const REQUEST_MESSAGES: Readonly<Record<string, Readonly<Record<string, FieldSpec>>>> = {
  GenerateContentRequest: {
    model: VALUE,
    system_instruction: 'Content',
    contents: 'Content',
    tools: 'Tool',
    tool_config: 'ToolConfig',
    safety_settings: 'SafetySetting',
    generation_config: 'GenerationConfig',
    cached_content: VALUE,
    // SDK: generateContentConfigToMldev sends these beside the proto fields.
    service_tier: VALUE,
    labels: FREE,
    store: VALUE,
    continuation_token: VALUE,
  },
  EmbedContentRequest: {
    model: VALUE,
    content: 'Content',
    task_type: VALUE,
    title: VALUE,
    output_dimensionality: VALUE,
  },
  Content: { parts: 'Part', role: VALUE },
  Part: {
    text: VALUE,
    inline_data: 'Blob',
    function_call: 'FunctionCall',
    function_response: 'FunctionResponse',
    file_data: 'FileData',
    executable_code: 'ExecutableCode',
    code_execution_result: 'CodeExecutionResult',
    video_metadata: 'VideoMetadata',
    thought: VALUE,
    thought_signature: VALUE,
    part_metadata: FREE,
    // SDK (partToMldev): per-part media resolution, server-side tool turns, transcriptions.
    media_resolution: 'PartMediaResolution',
    tool_call: 'ToolCall',
    tool_response: 'ToolResponse',
    audio_transcription: 'Transcription',
    media_processing: VALUE,
    speech_metadata: 'SpeechMetadata',
  },
  Blob: { mime_type: VALUE, data: VALUE, display_name: VALUE },
  FileData: { mime_type: VALUE, file_uri: VALUE, display_name: VALUE },
  VideoMetadata: { start_offset: VALUE, end_offset: VALUE, fps: VALUE },
  ExecutableCode: { language: VALUE, code: VALUE, id: VALUE },
  CodeExecutionResult: { outcome: VALUE, output: VALUE, id: VALUE },
  FunctionCall: { id: VALUE, name: VALUE, args: FREE },
  FunctionResponse: {
    id: VALUE,
    name: VALUE,
    response: FREE,
    parts: 'FunctionResponsePart',
    will_continue: VALUE,
    scheduling: VALUE,
  },
  FunctionResponsePart: {
    inline_data: 'FunctionResponseBlob',
    file_data: 'FunctionResponseFileData',
    media_processing: VALUE,
  },
  FunctionResponseBlob: { mime_type: VALUE, data: VALUE, display_name: VALUE },
  FunctionResponseFileData: { mime_type: VALUE, file_uri: VALUE, display_name: VALUE },
  PartMediaResolution: { level: VALUE, num_tokens: VALUE },
  ToolCall: { id: VALUE, tool_type: VALUE, args: FREE },
  ToolResponse: { id: VALUE, tool_type: VALUE, response: FREE },
  Transcription: {
    text: VALUE,
    finished: VALUE,
    language_code: VALUE,
    speaker_label: VALUE,
    words: 'WordInfo',
    start_offset: VALUE,
    end_offset: VALUE,
  },
  WordInfo: { word: VALUE, start_offset: VALUE, end_offset: VALUE },
  SpeechMetadata: { speaker: VALUE, style: VALUE },

  Tool: {
    function_declarations: 'FunctionDeclaration',
    google_search_retrieval: 'GoogleSearchRetrieval',
    code_execution: 'CodeExecution',
    google_search: 'GoogleSearch',
    computer_use: 'ComputerUse',
    url_context: 'UrlContext',
    file_search: 'FileSearch',
    google_maps: 'GoogleMaps',
    // SDK (toolToMldev).
    mcp_servers: 'McpServer',
  },
  FunctionDeclaration: {
    name: VALUE,
    description: VALUE,
    parameters: 'Schema',
    parameters_json_schema: FREE,
    response: 'Schema',
    response_json_schema: FREE,
    behavior: VALUE,
  },
  GoogleSearchRetrieval: { dynamic_retrieval_config: 'DynamicRetrievalConfig' },
  DynamicRetrievalConfig: { mode: VALUE, dynamic_threshold: VALUE },
  CodeExecution: {},
  UrlContext: {},
  // SDK: `searchTypes` ({webSearch: {}, imageSearch: {}}) beside the proto's time range filter.
  GoogleSearch: { time_range_filter: 'Interval', search_types: 'SearchTypes' },
  SearchTypes: { web_search: FREE, image_search: FREE },
  Interval: { start_time: VALUE, end_time: VALUE },
  ComputerUse: {
    environment: VALUE,
    excluded_predefined_functions: VALUE,
    // SDK.
    enable_prompt_injection_detection: VALUE,
    disabled_safety_policies: VALUE,
  },
  // The proto's shape (retrieval resources) and the SDK's newer one (store names) are both listed.
  FileSearch: {
    retrieval_resources: 'FileSearchRetrievalResource',
    retrieval_config: 'FileSearchRetrievalConfig',
    file_search_store_names: VALUE,
    metadata_filter: VALUE,
    top_k: VALUE,
  },
  FileSearchRetrievalResource: { rag_store_name: VALUE },
  FileSearchRetrievalConfig: { top_k: VALUE, metadata_filter: VALUE },
  // SDK: `authConfig` is sent, though of its fields only `apiKey` is for the Developer API.
  GoogleMaps: { enable_widget: VALUE, auth_config: 'AuthConfig' },
  AuthConfig: { api_key: VALUE },
  McpServer: { name: VALUE, streamable_http_transport: 'StreamableHttpTransport' },
  StreamableHttpTransport: {
    url: VALUE,
    headers: FREE,
    timeout: VALUE,
    sse_read_timeout: VALUE,
    terminate_on_close: VALUE,
  },

  ToolConfig: {
    function_calling_config: 'FunctionCallingConfig',
    retrieval_config: 'RetrievalConfig',
    // SDK.
    include_server_side_tool_invocations: VALUE,
  },
  FunctionCallingConfig: { mode: VALUE, allowed_function_names: VALUE },
  RetrievalConfig: { lat_lng: 'LatLng', language_code: VALUE },
  LatLng: { latitude: VALUE, longitude: VALUE },

  SafetySetting: { category: VALUE, threshold: VALUE },

  GenerationConfig: {
    candidate_count: VALUE,
    stop_sequences: VALUE,
    max_output_tokens: VALUE,
    temperature: VALUE,
    top_p: VALUE,
    top_k: VALUE,
    seed: VALUE,
    response_mime_type: VALUE,
    response_schema: 'Schema',
    // The proto renames these two: `_responseJsonSchema` is the plain field, and the JSON name
    // `responseJsonSchema` belongs to `response_json_schema_ordered` (generative_service.proto).
    response_json_schema: { type: FREE, json: '_responseJsonSchema' },
    response_json_schema_ordered: { type: FREE, json: 'responseJsonSchema' },
    presence_penalty: VALUE,
    frequency_penalty: VALUE,
    response_logprobs: VALUE,
    logprobs: VALUE,
    enable_enhanced_civic_answers: VALUE,
    response_modalities: VALUE,
    speech_config: 'SpeechConfig',
    thinking_config: 'ThinkingConfig',
    image_config: 'ImageConfig',
    media_resolution: VALUE,
    // SDK (generateContentConfigToMldev).
    audio_transcription_config: 'AudioTranscriptionConfig',
  },
  SpeechConfig: {
    voice_config: 'VoiceConfig',
    multi_speaker_voice_config: 'MultiSpeakerVoiceConfig',
    language_code: VALUE,
  },
  VoiceConfig: {
    prebuilt_voice_config: 'PrebuiltVoiceConfig',
    // SDK.
    replicated_voice_config: 'ReplicatedVoiceConfig',
    voice: VALUE,
  },
  PrebuiltVoiceConfig: { voice_name: VALUE },
  ReplicatedVoiceConfig: {
    mime_type: VALUE,
    voice_sample_audio: VALUE,
    consent_audio: VALUE,
    voice_consent_signature: FREE,
  },
  MultiSpeakerVoiceConfig: { speaker_voice_configs: 'SpeakerVoiceConfig' },
  SpeakerVoiceConfig: { speaker: VALUE, voice_config: 'VoiceConfig' },
  // SDK: `thinkingLevel` (Gemini 3) beside the proto's two fields.
  ThinkingConfig: { include_thoughts: VALUE, thinking_budget: VALUE, thinking_level: VALUE },
  // SDK: `imageSize` beside the proto's aspect ratio.
  ImageConfig: { aspect_ratio: VALUE, image_size: VALUE },
  // SDK only, and several of its members are objects the SDK types loosely: not walked inside.
  AudioTranscriptionConfig: {
    language_codes: VALUE,
    language_auto: FREE,
    language_hints: FREE,
    custom_vocabulary: VALUE,
    adaptation_phrases: VALUE,
    word_timestamp: VALUE,
    diarization: VALUE,
    mode: VALUE,
    source_text: VALUE,
  },

  // The OpenAPI subset Gemini takes for `responseSchema` and function parameters. `properties`
  // maps arbitrary property names to schemas; `example` and `default` are any JSON value.
  Schema: {
    type: VALUE,
    format: VALUE,
    title: VALUE,
    description: VALUE,
    nullable: VALUE,
    enum: VALUE,
    items: 'Schema',
    max_items: VALUE,
    min_items: VALUE,
    properties: { map: 'Schema' },
    required: VALUE,
    min_properties: VALUE,
    max_properties: VALUE,
    minimum: VALUE,
    maximum: VALUE,
    min_length: VALUE,
    max_length: VALUE,
    pattern: VALUE,
    example: FREE,
    any_of: 'Schema',
    property_ordering: VALUE,
    default: FREE,
  },
};

/** The message each kind of request is. */
export const REQUEST_ROOTS = { generate: 'GenerateContentRequest', embed: 'EmbedContentRequest' } as const;
