/**
 * The embedded G.711 media endpoint (DESIGN.md decision 4, the default backend). Only the composition root imports
 * it; the engine sees the {@link MediaLayer} interface.
 */
export { createEmbeddedMediaLayer, type EmbeddedMediaLayer, type EmbeddedMediaLayerOptions } from './layer.js';
export type { EmbeddedSession } from './session.js';
