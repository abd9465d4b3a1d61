// `npm start` at the repository root runs the workspace's `start:built` script in correlator/, so
// the default DATA_DIR=./data made correlator/data, where both READMEs say ./data (a volume or a
// backup of ./data missed the store), and a relative DEFECT_CATALOG or MDSO_CA_FILE was looked for
// there too. npm says where it was run in INIT_CWD: relative paths are the operator's, from there.

/** The script of the correlator's package.json that `npm start` runs. */
export const START_SCRIPT = 'start:built';

/** The directory relative settings are read from when npm ran the start script, else null (as run). */
export function operatorDirectory(env: NodeJS.ProcessEnv): string | null {
  return env.npm_lifecycle_event === START_SCRIPT && env.INIT_CWD ? env.INIT_CWD : null;
}
