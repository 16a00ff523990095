// Runs the shared GPU kernel suite on a real Dawn device in Node (SwiftShader without a GPU).
import { describeOnDawn } from './dawnSuite';
import { kernelCases } from './kernelSuite';

describeOnDawn('GPU kernels on Dawn (Node)', kernelCases);
