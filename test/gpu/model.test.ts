// Runs the GPT engine suite (GPU against the CPU reference) on a real Dawn device in Node.
import { describeOnDawn } from './dawnSuite';
import { modelCases } from './modelSuite';

describeOnDawn('GPT engine on Dawn (Node)', modelCases);
