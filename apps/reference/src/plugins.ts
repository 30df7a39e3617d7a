/**
 * Plug-ins the app adds to the shared registries (imported once, by the CLI and the scripts,
 * before any config is read). fashion-scenes, the embedded demo benchmark, is not a built-in of
 * @sign/datasets (it would make every install carry Fashion-MNIST): the app registers it here.
 */
import { fashionScenesDataset } from '@sign/data/node';
import { datasets } from '@sign/datasets';

datasets.provide('fashion-scenes', fashionScenesDataset);
