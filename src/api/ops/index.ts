/** Operations: health, readiness and Prometheus metrics for orchestrators. */
export { createOpsMetrics, type OpsMetrics, type OpsSources } from './metrics.js';
export { registerOpsRoutes, OPS_PATHS, type OpsDeps, type Readiness } from './routes.js';
