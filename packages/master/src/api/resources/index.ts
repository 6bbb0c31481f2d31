// Every resource type the data API serves.
import type { ResourceType } from '../resource.js';
import { annotations } from './annotations.js';
import { bisections } from './bisections.js';
import { builders } from './builders.js';
import { buildrequests } from './buildrequests.js';
import { builds } from './builds.js';
import { buildsets } from './buildsets.js';
import { changes } from './changes.js';
import { changesources } from './changesources.js';
import { forceschedulers } from './forceschedulers.js';
import { logs } from './logs.js';
import { masters } from './masters.js';
import { metrics } from './metrics.js';
import { properties } from './properties.js';
import { reporters } from './reporters.js';
import { schedulers } from './schedulers.js';
import { sourcestamps } from './sourcestamps.js';
import { steps } from './steps.js';
import { testresults } from './testresults.js';
import { testruns, tests } from './tests.js';
import { workers } from './workers.js';

export const RESOURCE_TYPES: readonly ResourceType[] = [
  masters,
  builders,
  workers,
  builds,
  steps,
  logs,
  buildrequests,
  changes,
  sourcestamps,
  buildsets,
  properties,
  metrics,
  testresults,
  bisections,
  reporters,
  tests,
  testruns,
  annotations,
  schedulers,
  forceschedulers,
  changesources,
];
