// --- message layer (parser, serializer, URIs, headers, framing, digest, status) ---
export * from './message.js';
export * from './errors.js';
export * from './uri.js';
export * from './headers.js';
export * from './parser.js';
export * from './serializer.js';
export * from './stream-framer.js';
export * from './status.js';
export * from './digest.js';
