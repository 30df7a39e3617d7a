/**
 * `folder`: your own images and label maps on disk, laid out like mmsegmentation's custom
 * datasets:
 *
 *   ROOT/classes.json           {"classes": ["background", "cat", …], "background": 0 | null, "ignoreIndex": 255}
 *   ROOT/images/<split>/*.png|jpg|jpeg
 *   ROOT/labels/<split>/<same stem>.png   (8-bit grey or palette PNG: value / index = class id)
 *   ROOT/embeddings.json        optional: {"cat": [..], …} or a table written by `sign embed`
 *
 * Splits are the `images/<split>` folders among 'train', 'val', 'test' and the config's
 * trainSplit/testSplit. `open` checks the layout, classes.json, the pairing of images and labels,
 * every file's header (a readable PNG/JPEG, the pixel limit, label format, image size = label
 * size) and, with `validate: 'full'` (the default for up to 500 samples), decodes every file and
 * checks every label value. All problems are reported at once, each naming its file. Samples
 * are read from disk when asked for; nothing is kept in memory.
 */
import { z } from 'zod';
import { parseEmbeddings } from '../embeddings';
import { DatasetError } from '../errors';
import { errorMessage as message, identityLabels, openPairedDataset, pairFolders, type FilePair } from '../files';
import { joinPath, type DatasetIo } from '../io';
import type { DataConfig, DatasetDefinition, DatasetMeta, Normalization } from '../types';

/** Samples up to which `validate: 'auto'` decodes every file when opening. */
export const FULL_VALIDATION_LIMIT = 500;

const normalizationSchema = z.strictObject({
  order: z.enum(['rgb', 'bgr', 'grey']),
  scale: z.number().positive(),
  mean: z.array(z.number()).min(1).max(3),
  std: z.array(z.number().positive()).min(1).max(3),
});

/** The folder dataset's own config keys. */
export const folderSchema = z.object({
  root: z.string().min(1).describe('the dataset folder (classes.json, images/<split>/, labels/<split>/)'),
  channels: z.union([z.literal(1), z.literal(3)]).default(3).describe('channels the model sees: grey images are replicated to 3, colour images converted to grey for 1'),
  normalization: normalizationSchema.optional().describe('default: ImageNet mean/std on 0..1 RGB (grey: their channel means)'),
  validate: z.enum(['auto', 'headers', 'full']).default('auto').describe(`'full' decodes every file when opening; 'headers' reads headers only; 'auto': full up to ${FULL_VALIDATION_LIMIT} samples`),
});

/** A validated folder `data` section. */
export type FolderConfig = DataConfig & z.infer<typeof folderSchema>;

/** ImageNet statistics on 0..1 RGB (torchvision's), the usual choice for pre-trained backbones. */
export const IMAGENET_NORMALIZATION: Normalization = { order: 'rgb', scale: 1 / 255, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
/** Grey: the means of ImageNet's channel statistics. */
export const GREY_NORMALIZATION: Normalization = { order: 'grey', scale: 1 / 255, mean: [0.449], std: [0.226] };

const classesSchema = z.strictObject({
  classes: z.array(z.string().min(1)).min(1).max(255),
  background: z.number().int().min(0).nullable(),
  ignoreIndex: z.number().int().min(0).max(255).default(255),
});

async function readClasses(io: DatasetIo, root: string): Promise<{ classNames: string[]; background: number | null; ignoreIndex: number }> {
  const path = joinPath(root, 'classes.json');
  let text: string;
  try {
    text = await io.readText(path);
  } catch (err) {
    throw new DatasetError([`${message(err)} (a folder dataset needs classes.json: {"classes": ["background", "cat", …], "background": 0, "ignoreIndex": 255})`]);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw new DatasetError([`${path}: not valid JSON (${message(err)})`]);
  }
  const r = classesSchema.safeParse(obj);
  if (!r.success) throw new DatasetError(r.error.issues.map((i) => `${path}: ${i.path.map(String).join('.') || '(root)'}: ${i.code === 'invalid_type' && i.message.includes('undefined') ? `missing (${i.path[0] === 'background' ? 'the id of the background class, or null when every class is an object class' : i.message})` : i.message}`));
  const { classes, background, ignoreIndex } = r.data;
  const problems: string[] = [];
  const seen = new Map<string, number>();
  classes.forEach((c, i) => {
    if (seen.has(c)) problems.push(`${path}: class '${c}' is listed twice (ids ${seen.get(c)} and ${i})`);
    seen.set(c, i);
  });
  if (background !== null && background >= classes.length) problems.push(`${path}: background is ${background}, but the class ids are 0..${classes.length - 1}`);
  if (ignoreIndex < classes.length) problems.push(`${path}: ignoreIndex ${ignoreIndex} is a class id ('${classes[ignoreIndex]}'); use a value ≥ ${classes.length} (255)`);
  if (problems.length > 0) throw new DatasetError(problems);
  return { classNames: classes, background, ignoreIndex };
}

/**
 * The `folder` dataset type (see the module comment for the layout). Config:
 * `{ type: 'folder', root, channels?: 1 | 3 (3), normalization?, validate?: 'auto' | 'headers' | 'full' }`
 * plus the common keys.
 *
 * @example
 * const dm = await createDataModule({ type: 'folder', root: 'data/shapes', unseen: ['blue circle'] }, { io: nodeIo, seed: 0 });
 */
export const folderDataset: DatasetDefinition<FolderConfig> = {
  type: 'folder',
  description: "your own images and label maps in a folder (mmsegmentation's custom layout: classes.json, images/<split>/, labels/<split>/)",
  schema: folderSchema,
  async open(config, { io }) {
    const root = config.root;
    const { classNames, background, ignoreIndex } = await readClasses(io, root);
    const channels = config.channels;
    const normalization = config.normalization ?? (channels === 3 ? IMAGENET_NORMALIZATION : GREY_NORMALIZATION);
    const problems: string[] = [];
    const wantChannels = normalization.order === 'grey' ? 1 : 3;
    if (wantChannels !== channels || normalization.mean.length !== channels || normalization.std.length !== channels)
      throw new DatasetError([`data.normalization: order '${normalization.order}' with ${normalization.mean.length} mean(s) and ${normalization.std.length} std(s) does not fit channels ${channels}`]);

    const candidates = [...new Set(['train', 'val', 'test', config.trainSplit, config.testSplit].filter((s): s is string => !!s))];
    const present: string[] = [];
    for (const s of candidates) if (await io.exists(joinPath(root, 'images', s))) present.push(s);
    const trainSplit = config.trainSplit ?? 'train';
    if (!present.includes(trainSplit)) throw new DatasetError([`${joinPath(root, 'images', trainSplit)}: no such folder (the training split; found: ${present.map((s) => `images/${s}`).join(', ') || 'no split folders'})`]);
    const pairs: Record<string, FilePair[]> = {};
    for (const s of present) pairs[s] = await pairFolders(io, joinPath(root, 'images', s), joinPath(root, 'labels', s), problems, { images: `images/${s}/`, labels: `labels/${s}/` });
    const count = present.reduce((n, s) => n + pairs[s]!.length, 0);
    const meta: DatasetMeta = { type: 'folder', classNames, background, ignoreIndex, channels, normalization, splits: present };

    let embeddings = null;
    const later: string[] = [];
    const embPath = joinPath(root, 'embeddings.json');
    if (await io.exists(embPath)) {
      try {
        embeddings = parseEmbeddings(await io.readText(embPath), embPath, classNames);
      } catch (err) {
        later.push(message(err));
      }
    }
    const full = config.validate === 'full' || (config.validate === 'auto' && count <= FULL_VALIDATION_LIMIT);
    return openPairedDataset({
      io,
      root,
      what: 'folder dataset',
      meta,
      splits: pairs,
      labels: identityLabels(classNames.length, ignoreIndex, `a class id of classes.json (0..${classNames.length - 1})`),
      check: full ? 'full' : 'headers',
      embeddings,
      problems,
      laterProblems: later,
      unknownSplit: (name, known) => `${root} has no split '${name}' (no images/${name}/); known: ${known.join(', ')}`,
    });
  },
};
