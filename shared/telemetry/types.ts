/** The telemetry port. Services log through this and never import an SDK. */

export type TelemetryProperties = Record<string, string | number | boolean | undefined>;

export interface RequestRecord {
  /** e.g. `GET /pools/{poolId}` */
  name: string;
  url?: string;
  durationMs: number;
  resultCode: number | string;
  success: boolean;
  properties?: TelemetryProperties;
}

export interface DependencyRecord {
  /** e.g. `UpdateEntity pools` */
  name: string;
  /** e.g. `Azure table`, `Azure queue`, `Event Hubs`, `HTTP` */
  dependencyType: string;
  target?: string;
  data?: string;
  durationMs: number;
  resultCode?: number | string;
  success: boolean;
  properties?: TelemetryProperties;
}

export interface Telemetry {
  /** Which implementation is behind the facade. */
  readonly kind: 'noop' | 'appinsights';
  trackRequest(request: RequestRecord): void;
  trackDependency(dependency: DependencyRecord): void;
  trackException(err: unknown, props?: TelemetryProperties): void;
  trackEvent(name: string, props?: TelemetryProperties, measurements?: Record<string, number>): void;
  trackMetric(name: string, value: number, props?: TelemetryProperties): void;
  /** Sends whatever is buffered; resolves (never rejects) when done. */
  flush(): Promise<void>;
}
