// Real distributions for tests: the writer lives in client/demo-wheels.ts (the packaged demo uses
// it too); tests import it from here.
export { wheelBytes, wheelFilename, writeSdist, writeWheel, type WheelSpec } from '../../client/demo-wheels.js';
