export {
  AccessDeniedError,
  ClosedError,
  InvalidOptionError,
  NativeUnavailableError,
  ProbeReadError,
  ProcessExitedError,
  ProcessNotFoundError,
  ProcprobeError,
  SyncUnsupportedError,
  ZombieProcessError,
} from './errors.js';
export { F, FIELD_COUNT, FIELDS, ProbeStatus, rowToSample } from './probe/layout.js';
export type { ProcessSample, SampleField } from './probe/layout.js';
export { loadNative } from './probe/native.js';
export type { NativeFeatures, NativeLoad } from './probe/native.js';
export { createProbe, nativeBaselineNs } from './probe/probe.js';
export type { Probe, ProbeBackend, ProbeBackendOption, ProbeOptions } from './probe/probe.js';
