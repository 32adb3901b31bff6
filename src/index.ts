export {
  AccessDeniedError,
  BaselineFormatError,
  CallbackError,
  ClosedError,
  DataDirError,
  DataDirLayoutError,
  ERROR_CLASSES,
  HistoryFormatError,
  HistorySkippedError,
  HistoryWriteError,
  IntervalClampedWarning,
  InvalidOptionError,
  NativeUnavailableError,
  ProbeReadError,
  ProcessExitedError,
  ProcessNotFoundError,
  ProcprobeError,
  SamplerError,
  SessionStateError,
  SpawnError,
  SyncUnsupportedError,
  UsageError,
  WorkerFailedError,
  ZombieProcessError,
} from './errors.js';
export type { SpawnStep } from './errors.js';
export { CHILDREN, F, FIELD_COUNT, FIELDS, ProbeStatus, rowToSample } from './probe/layout.js';
export type { ProcessSample, SampleField } from './probe/layout.js';
export { loadNative } from './probe/native.js';
export type { NativeFeatures, NativeLoad } from './probe/native.js';
export { createProbe, nativeBaselineNs } from './probe/probe.js';
export { findCommand, spawnNative } from './probe/spawn.js';
export type { NativeChild, NativeExit, NativeRusage, NativeSpawnOptions, NativeStdio } from './probe/spawn.js';
export type { Probe, ProbeBackend, ProbeBackendOption, ProbeOptions } from './probe/probe.js';
export { RealTimeMonitor } from './monitor/monitor.js';
export type { AverageMetrics, MonitorStats, RealTimeMonitorEvents, RealTimeMonitorOptions } from './monitor/monitor.js';
export type { MetricsCallback } from './monitor/callbacks.js';
export type { Alert } from './monitor/alerts.js';
export type { PerformanceSnapshot } from './monitor/snapshot.js';
export { Sampler } from './sampler/sampler.js';
export type { SamplerStats } from './sampler/sampler.js';
export type { SamplerOptions } from './sampler/options.js';
export type { SamplerUsageMark } from './sampler/self-usage.js';
export { RingReader, RingWriter, createRingBuffer } from './ring/ring.js';
export type { RingCursor } from './ring/ring.js';
export { Gauge, attachGauge, defineGauge } from './ring/gauge.js';
export { H as RING_HEADER, R as RECORD, RING_VERSION, WriterState, ringGeometry } from './ring/layout.js';
export type { RingGeometry } from './ring/layout.js';
export { PerformanceMonitor } from './startup/performance-monitor.js';
export type { ProcessExit, TreeProcess } from './sampler/processes.js';
export type { FinishOptions, PerformanceMonitorEvents, PerformanceMonitorOptions, ResourceUsageSummary, StatsOptions } from './startup/performance-monitor.js';
export { MetricType, StartupPhase } from './session/constants.js';
export { TimingContext, TimingMetric } from './session/timing.js';
export { ResourceSnapshot, StartupSession } from './session/session.js';
export type { PhaseSummary, ResourceDelta, SampleAccount, SamplerAccount, SessionError, SessionSamples, SessionSummary } from './session/types.js';
export { TOTAL_STARTUP, totalStartupMs } from './session/types.js';
export { HistoryStore } from './history/store.js';
export type { LoadedSession } from './history/parse.js';
export type {
  Distribution,
  PerformanceStats,
  PhaseStats,
  Suggestion,
  SuggestionKind,
  Trend,
  TrendVerdict,
} from './analysis/types.js';
export { SCHEMA_VERSION } from './schema.js';
export { EXPORT_FORMATS, exportSession, toChromeTrace, toCsv, toJson, toMsgpack, toOpenMetrics } from './export/index.js';
export type { ExportFormat, ExportInput, ExportOptions } from './export/index.js';
export { renderHtmlReport } from './report/html.js';
export { renderSeriesReport } from './report/series.js';
export type { SeriesReportInput, SeriesReportOptions } from './report/series.js';
export type { HtmlReportOptions } from './report/html.js';
export { LiveWindow, PEAK_FIELDS } from './metrics/window.js';
export type { LiveSource, LiveWindowOptions, PeakField } from './metrics/window.js';
export { registerPrometheusMetrics } from './metrics/prometheus.js';
export type { PrometheusMetrics, PrometheusOptions, PromClientLike, PromRegistryLike } from './metrics/prometheus.js';
export { registerOpenTelemetryMetrics } from './metrics/opentelemetry.js';
export type { OpenTelemetryMetrics, OpenTelemetryOptions, OtelBatchResultLike, OtelMeterLike, OtelObservableLike } from './metrics/opentelemetry.js';
