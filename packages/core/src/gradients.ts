/**
 * A leaner `tf.engine().gradients`: the same gradients as tfjs 4's, freeing memory as the
 * backward pass goes instead of at its end.
 *
 * tfjs keeps every tensor a gradient function saved, and the gradient of every intermediate
 * tensor, until the whole backward pass has finished, so its peak memory is the forward's saved
 * tensors plus every intermediate gradient. Here:
 * - the saved tensors of tape nodes that the backward pass will not visit (nothing that leads
 *   from the differentiated inputs to the result) are freed before it starts;
 * - a node's saved tensors are freed once its gradient has been computed;
 * - the gradient of an intermediate tensor is freed once the node that produced the tensor has
 *   used it, and a partial gradient once it has been added into the running sum.
 *
 * Only at the outermost gradient level (no enclosing tf.grad being recorded), exactly when tfjs
 * itself disposes the saved tensors; nested (higher-order) gradients run tfjs' own code.
 */
import * as tf from '@tensorflow/tfjs-core';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  saved?: tf.Tensor[];
  gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor>;
}

interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T>(nameOrFn: string | (() => T), fn?: () => T): T;
  gradients: GradientsFn;
}

type GradientsFn = (
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy?: tf.Tensor,
  allowNoGradients?: boolean,
) => { value: tf.Tensor; grads: tf.Tensor[] };

/**
 * The nodes on a path from `xs` to `y`, in tape order, each with its inputs restricted to those
 * that depend on `xs` (the only ones whose gradients are needed).
 */
export function nodesFromXsToY(tape: TapeNode[], xs: tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const dependsOnXs = new Set<number>(xs.map((x) => x.id));
  const reachedFromXs = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => dependsOnXs.has(t.id))) {
      for (const o of node.outputs) dependsOnXs.add(o.id);
      reachedFromXs.add(node.id);
    }
  }
  const leadsToY = new Set<number>([y.id]);
  const reachesY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => leadsToY.has(o.id))) {
      for (const t of Object.values(node.inputs)) leadsToY.add(t.id);
      reachesY.add(node.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!reachedFromXs.has(node.id) || !reachesY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (dependsOnXs.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs });
  }
  return out;
}

let original: GradientsFn | null = null;

/** Replaces the engine's `gradients` with the lean version (idempotent). */
export function installLeanGradients(): void {
  const engine = tf.engine() as unknown as EngineInternals;
  if (original) return;
  original = engine.gradients;
  engine.gradients = function leanGradients(this: EngineInternals, f, xs, dy, allowNoGradients = false) {
    // Nested inside another gradient's recording: tfjs' own code (it keeps what the outer tape needs).
    if (this.state.gradientDepth > 0) return original!.call(this, f, xs, dy, allowNoGradients);
    return lean(this, f, xs, dy, allowNoGradients);
  } as GradientsFn;
}

/** Restores tfjs' own `gradients`. */
export function uninstallLeanGradients(): void {
  if (!original) return;
  // The lean version is an own property of the engine instance; removing it uncovers tfjs' method.
  delete (tf.engine() as unknown as Record<string, unknown>).gradients;
  original = null;
}

/** Whether `tf.engine().gradients` is the lean version. */
export function leanGradientsInstalled(): boolean {
  return original !== null;
}

function lean(
  engine: EngineInternals,
  f: () => tf.Tensor,
  xs: tf.Tensor[],
  dy: tf.Tensor | undefined,
  allowNoGradients: boolean,
): { value: tf.Tensor; grads: tf.Tensor[] } {
  if (xs.length === 0) throw new Error('gradients() received an empty list of xs.');
  if (dy != null && dy.dtype !== 'float32') throw new Error(`dy must have 'float32' dtype, but has '${dy.dtype}'`);
  const y = engine.scopedRun(
    () => engine.startTape(),
    () => engine.endTape(),
    () => engine.tidy('forward', f),
  );
  if (!(y instanceof tf.Tensor)) throw new Error('The result y returned by f() must be a tensor.');
  const tape = engine.state.activeTape ?? [];
  const path = nodesFromXsToY(tape, xs, y);
  if (!allowNoGradients && path.length === 0) {
    throw new Error(
      'Cannot compute gradient of y=f(x) with respect to x. Make sure that the f you passed encloses all operations that lead from x to y.',
    );
  }
  const onPath = new Set(path.map((n) => n.id));
  for (const node of tape) if (!onPath.has(node.id)) disposeSaved(node);

  return engine.tidy('backward', () => {
    // The gradient of each tensor so far, and how many entries hold each gradient object (a
    // gradient function may pass a gradient through unchanged).
    const grad = new Map<number, tf.Tensor>();
    const holders = new Map<tf.Tensor, number>();
    const keep = new Set<number>(xs.map((x) => x.id));
    const protectedTensors = new Set<tf.Tensor>(dy ? [dy] : []);
    const set = (id: number, t: tf.Tensor) => {
      grad.set(id, t);
      holders.set(t, (holders.get(t) ?? 0) + 1);
    };
    const release = (t: tf.Tensor) => {
      const n = (holders.get(t) ?? 0) - 1;
      if (n > 0) holders.set(t, n);
      else {
        holders.delete(t);
        if (!protectedTensors.has(t)) t.dispose();
      }
    };
    set(y.id, dy ?? tf.ones(y.shape));
    for (let i = path.length - 1; i >= 0; i--) {
      const node = path[i];
      if (!node.gradient) throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
      const dys = node.outputs.map((o) => grad.get(o.id) ?? null);
      const thunks = node.gradient(dys);
      for (const [name, x] of Object.entries(node.inputs)) {
        if (!(name in thunks)) {
          throw new Error(`Cannot backprop through input ${name}. Available gradients found: ${Object.keys(thunks)}.`);
        }
        const dx = engine.tidy(() => thunks[name]());
        if (dx.dtype !== 'float32') {
          throw new Error(`Error in gradient for op ${node.kernelName}. The gradient of input ${name} must have 'float32' dtype, but has '${dx.dtype}'`);
        }
        if (!tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(
            `Error in gradient for op ${node.kernelName}. The gradient of input '${name}' has shape '${dx.shape}', which does not match the shape of the input '${x.shape}'`,
          );
        }
        const current = grad.get(x.id);
        if (current === undefined) {
          set(x.id, dx);
        } else {
          const sum = tf.add(current, dx);
          grad.delete(x.id);
          release(current);
          if (!holders.has(dx)) {
            if (!protectedTensors.has(dx)) dx.dispose();
          }
          set(x.id, sum);
        }
      }
      disposeSaved(node, holders);
      // This node was the only consumer of its outputs' gradients.
      for (const o of node.outputs) {
        const g = grad.get(o.id);
        if (g === undefined || keep.has(o.id)) continue;
        grad.delete(o.id);
        release(g);
      }
    }
    const grads = xs.map((x) => grad.get(x.id)) as tf.Tensor[];
    engine.state.activeTape = null;
    return { value: y, grads };
  });
}

/** Frees a node's saved tensors (except any that is also a live gradient). */
function disposeSaved(node: TapeNode, live?: Map<tf.Tensor, number>): void {
  if (!node.saved) return;
  for (const t of node.saved) if (!live?.has(t)) t.dispose();
  node.saved = [];
}

let reductionGradients = false;

/**
 * The gradients of `Sum` and `Mean` as a broadcast of dy (one Tile on the backend) instead of
 * tfjs' dy·ones(x.shape), which builds a ones array of x's size in JavaScript and uploads it on
 * every call (a full-size sum of a [4096, 600] tensor: a fresh 10 MB array). Same values: dy·1 is
 * dy, and Mean's dy/n is divided before the broadcast instead of after, the same division.
 * Registered once, for every backend (the gradient registry is global).
 */
export function installReductionGradients(): void {
  if (reductionGradients) return;
  reductionGradients = true;
  for (const kernelName of ['Sum', 'Mean'] as const) {
    tf.registerGradient({
      kernelName,
      inputsToSave: ['x'],
      gradFunc: (dy, saved, attrs) => {
        const [x] = saved;
        const axes = tf.util.parseAxisParam((attrs as unknown as { axis: number | number[] }).axis, x.shape);
        const shape = x.shape.slice();
        for (const a of axes) shape[a] = 1;
        const n = tf.util.sizeFromShape(axes.map((a) => x.shape[a]));
        return {
          x: () => {
            const g = tf.reshape(dy as tf.Tensor, shape);
            return tf.broadcastTo(kernelName === 'Mean' ? tf.div(g, n) : g, x.shape);
          },
        };
      },
    });
  }
}
