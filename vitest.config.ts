import { defineConfig } from 'vitest/config';
import { signVitestConfig } from './tooling/vitest/preset';

export default defineConfig(signVitestConfig(__dirname));
