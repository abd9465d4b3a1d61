import type { StateLoader } from './engine.js';

/** A store that holds nothing: the engine alone, on its hot state (its benchmark and unit tests). */
export const nothingStored: StateLoader = {
  loadTraces: () => [],
  loadGroup: () => null,
  persistedMembers: () => 0,
  episodesNear: () => null,
  looseLogs: () => null,
  membershipOf: () => null,
  tracesNear: () => [],
  refusalsNear: () => false,
  bridgesInto: () => [],
  linkSourcesInto: () => [],
};
