/** The seed's constants (000_86271e7beb1884f1.txt), as frozen objects with literal types. */

/** Types of metrics collected. */
export const MetricType = Object.freeze({
  TIMING: 'timing',
  SUCCESS_RATE: 'success_rate',
  RESOURCE_USAGE: 'resource_usage',
  ERROR_COUNT: 'error_count',
  PHASE_DURATION: 'phase_duration',
} as const);
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** Startup phases for timing measurement. Any other phase name is accepted too. */
export const StartupPhase = Object.freeze({
  ENVIRONMENT_VALIDATION: 'environment_validation',
  PORT_MANAGEMENT: 'port_management',
  PROCESS_STARTUP: 'process_startup',
  HEALTH_VERIFICATION: 'health_verification',
  TOTAL_STARTUP: 'total_startup',
} as const);
export type StartupPhase = (typeof StartupPhase)[keyof typeof StartupPhase];
