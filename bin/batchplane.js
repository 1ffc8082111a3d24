#!/usr/bin/env node
'use strict';
/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a CommonJS npm bin shim: require() is the point */
// The `batchplane` npm bin: registers tsx's CommonJS loader so the TypeScript CLI runs as is.
require('tsx/cjs');
require('../cli/main.ts').main(process.argv);
