import { describe, expect, it } from 'vitest';
import { z, ZodError } from 'zod';
import {
  EVENT_NAMES,
  eventSchemas,
  isServiceLogEventName,
  makeServiceLogRecord,
  partitionKeyOf,
  type ServiceLogEventName,
} from '../../shared/events/catalog';
import { exampleBodies } from '../../shared/events/catalog-examples';

/** Keys → type names, recursively; optional-field drift shows up as a changed snapshot. */
function shapeOf(v: unknown): unknown {
  if (Array.isArray(v)) return [v.length > 0 ? shapeOf(v[0]) : 'empty'];
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shapeOf(x)]));
  return v === null ? 'null' : typeof v;
}

type JsonSchema = { type?: string; properties?: Record<string, JsonSchema>; required?: string[]; enum?: unknown[]; format?: string; items?: JsonSchema };

/** A one-line signature of a schema: fields (`?` = optional), nesting, enums and formats. */
function signature(js: JsonSchema): string {
  if (js.type === 'object') {
    return `{${Object.entries(js.properties ?? {})
      .map(([k, v]) => k + (js.required?.includes(k) ? '' : '?') + signature(v))
      .join(' ')}}`;
  }
  if (js.type === 'array') return `[${signature(js.items ?? {})}]`;
  return `:${js.enum ? js.enum.join('|') : (js.format ?? js.type)}`;
}

const ctx = { time: new Date('2026-01-02T03:04:05.678Z'), resourceId: '/SUBSCRIPTIONS/0000/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.BATCH/BATCHACCOUNTS/ACCT' };

describe('service-log event catalog', () => {
  it('lists the documented events', () => {
    expect(EVENT_NAMES).toEqual([
      'PoolCreateEvent',
      'PoolResizeStartEvent',
      'PoolResizeCompleteEvent',
      'PoolAutoScaleEvent',
      'PoolDeleteStartEvent',
      'PoolDeleteCompleteEvent',
      'TaskStartEvent',
      'TaskCompleteEvent',
      'TaskFailEvent',
      'TaskScheduleFailEvent',
    ]);
    expect(isServiceLogEventName('TaskFailEvent')).toBe(true);
    expect(isServiceLogEventName('toString')).toBe(false);
  });

  it.each(EVENT_NAMES)('%s example body satisfies its schema', (name) => {
    expect(eventSchemas[name].parse(exampleBodies[name])).toEqual(exampleBodies[name]);
  });

  it('pins every example body shape', () => {
    const shapes = Object.fromEntries(EVENT_NAMES.map((n) => [n, shapeOf(exampleBodies[n])]));
    expect(shapes).toMatchInlineSnapshot(`
      {
        "PoolAutoScaleEvent": {
          "error": {
            "code": "string",
            "message": "string",
            "values": [
              {
                "name": "string",
                "value": "string",
              },
            ],
          },
          "formula": "string",
          "id": "string",
          "results": "string",
          "timestamp": "string",
        },
        "PoolCreateEvent": {
          "displayName": "string",
          "enableAutoScale": "boolean",
          "enableInterNodeCommunication": "boolean",
          "id": "string",
          "imageType": "string",
          "isAutoPool": "boolean",
          "maxTasksPerNode": "number",
          "networkConfiguration": {
            "subnetId": "string",
          },
          "resizeTimeout": "string",
          "targetDedicatedNodes": "number",
          "targetLowPriorityNodes": "number",
          "taskSlotsPerNode": "number",
          "virtualMachineConfiguration": {
            "imageReference": {
              "offer": "string",
              "publisher": "string",
              "sku": "string",
              "version": "string",
            },
            "nodeAgentId": "string",
          },
          "vmFillType": "string",
          "vmSize": "string",
        },
        "PoolDeleteCompleteEvent": {
          "endTime": "string",
          "id": "string",
          "startTime": "string",
        },
        "PoolDeleteStartEvent": {
          "id": "string",
        },
        "PoolResizeCompleteEvent": {
          "currentDedicatedNodes": "number",
          "currentLowPriorityNodes": "number",
          "enableAutoScale": "boolean",
          "endTime": "string",
          "id": "string",
          "isAutoPool": "boolean",
          "nodeDeallocationOption": "string",
          "resultCode": "string",
          "resultMessage": "string",
          "startTime": "string",
          "targetDedicatedNodes": "number",
          "targetLowPriorityNodes": "number",
        },
        "PoolResizeStartEvent": {
          "currentDedicatedNodes": "number",
          "currentLowPriorityNodes": "number",
          "enableAutoScale": "boolean",
          "id": "string",
          "isAutoPool": "boolean",
          "nodeDeallocationOption": "string",
          "targetDedicatedNodes": "number",
          "targetLowPriorityNodes": "number",
        },
        "TaskCompleteEvent": {
          "constraints": {
            "maxTaskRetryCount": "number",
          },
          "executionInfo": {
            "endTime": "string",
            "exitCode": "number",
            "requeueCount": "number",
            "retryCount": "number",
            "startTime": "string",
          },
          "id": "string",
          "jobId": "string",
          "multiInstanceSettings": {
            "numberOfInstances": "number",
          },
          "nodeInfo": {
            "nodeId": "string",
            "poolId": "string",
          },
          "systemTaskVersion": "number",
          "taskType": "string",
        },
        "TaskFailEvent": {
          "constraints": {
            "maxTaskRetryCount": "number",
          },
          "executionInfo": {
            "endTime": "string",
            "exitCode": "number",
            "failureInfo": {
              "category": "string",
              "code": "string",
              "message": "string",
            },
            "requeueCount": "number",
            "retryCount": "number",
            "startTime": "string",
          },
          "id": "string",
          "jobId": "string",
          "multiInstanceSettings": {
            "numberOfInstances": "number",
          },
          "nodeInfo": {
            "nodeId": "string",
            "poolId": "string",
          },
          "systemTaskVersion": "number",
          "taskType": "string",
        },
        "TaskScheduleFailEvent": {
          "constraints": {
            "maxTaskRetryCount": "number",
          },
          "id": "string",
          "jobId": "string",
          "multiInstanceSettings": {
            "numberOfInstances": "number",
          },
          "nodeInfo": {
            "nodeId": "string",
            "poolId": "string",
          },
          "requiredSlots": "number",
          "schedulingError": {
            "category": "string",
            "code": "string",
            "message": "string",
          },
          "systemTaskVersion": "number",
          "taskType": "string",
        },
        "TaskStartEvent": {
          "constraints": {
            "maxTaskRetryCount": "number",
          },
          "executionInfo": {
            "retryCount": "number",
          },
          "id": "string",
          "jobId": "string",
          "multiInstanceSettings": {
            "numberOfInstances": "number",
          },
          "nodeInfo": {
            "nodeId": "string",
            "poolId": "string",
          },
          "systemTaskVersion": "number",
          "taskType": "string",
        },
      }
    `);
  });

  it('pins every schema: field names, optionality, enums and formats', () => {
    const sigs = Object.fromEntries(EVENT_NAMES.map((n) => [n, signature(z.toJSONSchema(eventSchemas[n]) as JsonSchema)]));
    expect(sigs).toMatchInlineSnapshot(`
      {
        "PoolAutoScaleEvent": "{id:string timestamp:date-time formula:string results:string error?{code:string message:string values?[{name:string value:string}]}}",
        "PoolCreateEvent": "{id:string displayName?:string vmSize:string imageType:VirtualMachineConfiguration|CloudServiceConfiguration cloudServiceConfiguration?{osFamily:string targetOsVersion:string} virtualMachineConfiguration?{imageReference{publisher:string offer:string sku:string version:string} nodeAgentId:string windowsConfiguration?{enableAutomaticUpdates:boolean}} networkConfiguration?{subnetId:string subnetType?:string} resizeTimeout:string targetDedicatedNodes:integer targetLowPriorityNodes:integer taskSlotsPerNode:integer maxTasksPerNode?:integer vmFillType:Spread|Pack enableAutoScale:boolean enableInterNodeCommunication:boolean isAutoPool:boolean poolId?:string targetDedicated?:integer enableAutoscale?:boolean}",
        "PoolDeleteCompleteEvent": "{id:string startTime:date-time endTime:date-time}",
        "PoolDeleteStartEvent": "{id:string}",
        "PoolResizeCompleteEvent": "{id:string nodeDeallocationOption:invalid|requeue|terminate|taskcompletion|retaineddata currentDedicatedNodes:integer targetDedicatedNodes:integer currentLowPriorityNodes:integer targetLowPriorityNodes:integer enableAutoScale:boolean isAutoPool:boolean startTime:date-time endTime:date-time resultCode:string resultMessage:string}",
        "PoolResizeStartEvent": "{id:string nodeDeallocationOption:invalid|requeue|terminate|taskcompletion|retaineddata currentDedicatedNodes:integer targetDedicatedNodes:integer currentLowPriorityNodes:integer targetLowPriorityNodes:integer enableAutoScale:boolean isAutoPool:boolean}",
        "TaskCompleteEvent": "{jobId:string id:string taskType:User|JobManager|JobPreparation|JobRelease|StartTask systemTaskVersion:integer requiredSlots?:integer nodeInfo{poolId:string nodeId:string} multiInstanceSettings{numberOfInstances:integer} constraints{maxTaskRetryCount:integer maxWallClockTime?:string retentionTime?:string} executionInfo{startTime:date-time endTime:date-time exitCode?:integer retryCount:integer requeueCount:integer failureInfo?{category:UserError|ServerError code:string message:string details?[{name:string value:string}]}}}",
        "TaskFailEvent": "{jobId:string id:string taskType:User|JobManager|JobPreparation|JobRelease|StartTask systemTaskVersion:integer requiredSlots?:integer nodeInfo{poolId:string nodeId:string} multiInstanceSettings{numberOfInstances:integer} constraints{maxTaskRetryCount:integer maxWallClockTime?:string retentionTime?:string} executionInfo{startTime:date-time endTime:date-time exitCode?:integer retryCount:integer requeueCount:integer failureInfo?{category:UserError|ServerError code:string message:string details?[{name:string value:string}]}}}",
        "TaskScheduleFailEvent": "{jobId:string id:string taskType:User|JobManager|JobPreparation|JobRelease|StartTask systemTaskVersion:integer requiredSlots?:integer nodeInfo{poolId:string nodeId:string} multiInstanceSettings{numberOfInstances:integer} constraints{maxTaskRetryCount:integer maxWallClockTime?:string retentionTime?:string} schedulingError{category:UserError|ServerError code:string message:string}}",
        "TaskStartEvent": "{jobId:string id:string taskType:User|JobManager|JobPreparation|JobRelease|StartTask systemTaskVersion:integer requiredSlots?:integer nodeInfo{poolId:string nodeId:string} multiInstanceSettings{numberOfInstances:integer} constraints{maxTaskRetryCount:integer maxWallClockTime?:string retentionTime?:string} executionInfo{retryCount:integer requeueCount?:integer}}",
      }
    `);
  });

  it.each(EVENT_NAMES)('%s rejects undocumented fields and missing required ones', (name: ServiceLogEventName) => {
    expect(() => eventSchemas[name].parse({ ...exampleBodies[name], surprise: 1 })).toThrow(ZodError);
    const { id: _id, ...withoutId } = exampleBodies[name] as { id: string };
    expect(() => eventSchemas[name].parse(withoutId)).toThrow(ZodError);
  });

  it("accepts the 2017 seed sample's field names next to the current ones", () => {
    const body = { ...exampleBodies.PoolCreateEvent, poolId: 'myPool1', targetDedicated: 2, enableAutoscale: false };
    expect(eventSchemas.PoolCreateEvent.parse(body)).toMatchObject({ poolId: 'myPool1', targetDedicated: 2, maxTasksPerNode: 1 });
  });

  it('validates enums and formats', () => {
    const bad = [
      () => eventSchemas.PoolCreateEvent.parse({ ...exampleBodies.PoolCreateEvent, vmFillType: 'spread' }),
      () => eventSchemas.PoolCreateEvent.parse({ ...exampleBodies.PoolCreateEvent, resizeTimeout: 'PT15M' }),
      () => eventSchemas.PoolResizeStartEvent.parse({ ...exampleBodies.PoolResizeStartEvent, nodeDeallocationOption: 'later' }),
      () => eventSchemas.PoolDeleteCompleteEvent.parse({ ...exampleBodies.PoolDeleteCompleteEvent, endTime: 'yesterday' }),
      () => eventSchemas.TaskStartEvent.parse({ ...exampleBodies.TaskStartEvent, taskType: 'Batch' }),
      () => eventSchemas.TaskCompleteEvent.parse({ ...exampleBodies.TaskCompleteEvent, systemTaskVersion: 1.5 }),
    ];
    for (const f of bad) expect(f).toThrow(ZodError);
  });

  it('wraps a body in the resource-log envelope', () => {
    const record = makeServiceLogRecord('TaskCompleteEvent', exampleBodies.TaskCompleteEvent, ctx);
    expect(record).toEqual({
      time: '2026-01-02T03:04:05.678Z',
      resourceId: ctx.resourceId,
      category: 'ServiceLog',
      operationName: 'TaskCompleteEvent',
      properties: exampleBodies.TaskCompleteEvent,
    });
    expect(JSON.parse(JSON.stringify(record))).toEqual(record);
  });

  it('refuses to wrap an invalid body', () => {
    const body = { ...exampleBodies.PoolResizeStartEvent, currentDedicatedNodes: -1 };
    expect(() => makeServiceLogRecord('PoolResizeStartEvent', body, ctx)).toThrow(ZodError);
    // A task body is not a pool-delete body (structurally assignable in TS, refused by the strict schema).
    expect(() => makeServiceLogRecord('PoolDeleteStartEvent', exampleBodies.TaskStartEvent as never, ctx)).toThrow(ZodError);
  });

  it('keys pool events by pool id and task events by job id', () => {
    const keys = Object.fromEntries(EVENT_NAMES.map((n) => [n, partitionKeyOf(n, exampleBodies[n])]));
    expect(keys).toEqual({
      PoolCreateEvent: 'myPool1',
      PoolResizeStartEvent: 'myPool1',
      PoolResizeCompleteEvent: 'myPool1',
      PoolAutoScaleEvent: 'myPool1',
      PoolDeleteStartEvent: 'myPool1',
      PoolDeleteCompleteEvent: 'myPool1',
      TaskStartEvent: 'myJob',
      TaskCompleteEvent: 'myJob',
      TaskFailEvent: 'myJob',
      TaskScheduleFailEvent: 'job-01',
    });
  });
});
