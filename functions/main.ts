import { app } from '@azure/functions';
import { registerFunctions } from './index';
import { createRuntime } from '../shared/runtime';

/** Entry point under the real Azure Functions host (package.json "main" → dist/functions/main.js). */
const rt = createRuntime();
app.hook.appStart(async () => {
  await rt.storage.ensure();
});
registerFunctions(app, rt);
