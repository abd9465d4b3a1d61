// Keeps one instance of each short-lived class of a hot path alive for the life of the thread.
//
// V8 gives an instance of a class its final shape (map) by transitions from the class's initial
// map, one per field the constructor sets, and holds those transitions weakly. Optimised code
// embeds the final map weakly too. So a full GC that runs while no instance of the class is alive
// (between two views, say) frees that map and throws away every optimised function that checked
// it: the span writer and the wire reader lost all their optimised code at each major GC, and the
// next stitched view ran three to four times slower while V8 optimised them again. An anchored
// instance keeps the map, and with it the code, alive. Cost: one small object per class.
const anchors: object[] = [];

/** Holds `instance` (one per class is enough) for as long as the thread runs. */
export function anchorShape<T extends object>(instance: T): T {
  anchors.push(instance);
  return instance;
}
