#!/usr/bin/env node
/**
 * `nplctl list …` and `nplctl check ns/pod …` (see args.ts HELP). Exit codes: 0 done (check: every
 * check passed), 1 a check failed or the cluster could not be read, 2 invalid command line or kubeconfig.
 */
import { main } from './main.js';

const code = await main(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr });
process.exitCode = code;
