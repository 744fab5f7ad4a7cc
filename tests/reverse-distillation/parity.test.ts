// Reverse Distillation against the PyTorch reference, ResNet18 widths (the `fast` preset's pairing:
// basic-block bottleneck with RD4AD's conv4, de_resnet18), 64×64, batch 4, one training step with the
// flattened loss (both losses' gradients compared), then a checkpoint trained by the reference through
// a torchvision teacher, saved as RD4AD saves it and converted. The suite and its rules: parity-suite.ts.
// The WideResNet50-2 widths: parity-wide.test.ts.
//
// Figures (wasm, this machine; max |ours − torch| / max |torch| unless said otherwise): see the report
// printed by the suite (console.info) and the numbers recorded below after the first green run.
import { rdParitySuite } from './parity-suite';

rdParitySuite({
  title: 'Reverse Distillation, ResNet18 widths, against the PyTorch reference (64×64, batch 4)',
  preset: 'fast',
  overrides: {},
  // RD4AD resnet18's BN_layer (incl. its unused conv4/bn4) + de_resnet18: 12,205,312 + 3,703,168.
  expectParameters: 15_908_480,
  f32Factor: 4,
  torchTrained: true,
  timeoutMs: 300_000,
});
