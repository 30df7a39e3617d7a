export {
  relativePositionalEncoding,
  absolutePositionalEncoding,
  type RelativePositionalEncodingOptions,
} from './positional';
