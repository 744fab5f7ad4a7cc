// Types of the generated bundle beside this file: it registers tfjs-core's gradients as a side effect.
export declare const TFJS_CORE_VERSION: string;
