#!/usr/bin/python3
"""PatchCore's scoring as anomalib computes it (anomalib PatchcoreModel / AnomalyMapGenerator,
torch, float32), on features MIAD Lab wrote, for the parity test tests/patchcore/parity.test.ts.

    patchcore.py DIR

DIR holds (all .npy, float32, channels last as the TypeScript side keeps them):
  bank.npy          [M, C]        the memory bank
  embedding.npy     [B, h, w, C]  test patch embeddings
  layer_<i>.npy     [B, h_i, w_i, c_i]  (optional) raw backbone layers, to rebuild the embedding
  params.json       {"num_neighbors": 9, "input_size": 64, "sigma": 4}
and receives:
  patch_scores.npy  [B, h, w]   distance of each patch to its nearest bank row
  image_scores.npy  [B]         paper eq. 7 re-weighted image scores
  maps.npy          [B, S, S]   nearest upsampling to input_size, Gaussian blur sigma
  embedding_ref.npy [B, h, w, C] (when layer_*.npy exist) AvgPool2d(3,1,1) + bilinear resize + concat

Runs with Debian's python3-torch (scripts/install-torch.sh); exits 3 when torch is missing.
"""
import json
import os
import sys

import numpy as np

try:
    import torch
    import torch.nn.functional as F
except ImportError as exc:  # pragma: no cover
    sys.stderr.write(f"patchcore.py: PyTorch is not installed for {sys.executable} ({exc}); run scripts/install-torch.sh\n")
    sys.exit(3)


def euclidean_dist(x, y):
    """anomalib PatchcoreModel.euclidean_dist."""
    x_norm = x.pow(2).sum(dim=-1, keepdim=True)
    y_norm = y.pow(2).sum(dim=-1, keepdim=True)
    res = x_norm - 2 * torch.matmul(x, y.transpose(-2, -1)) + y_norm.transpose(-2, -1)
    return res.clamp_min_(0).sqrt_()


def nearest_neighbors(embedding, bank, n_neighbors):
    """anomalib PatchcoreModel.nearest_neighbors."""
    distances = euclidean_dist(embedding, bank)
    if n_neighbors == 1:
        patch_scores, locations = distances.min(1)
    else:
        patch_scores, locations = distances.topk(k=n_neighbors, largest=False, dim=1)
    return patch_scores, locations


def compute_anomaly_score(patch_scores, locations, embedding, bank, num_neighbors):
    """anomalib PatchcoreModel.compute_anomaly_score (paper eq. 7)."""
    if num_neighbors == 1:
        return patch_scores.amax(1)
    batch_size, num_patches = patch_scores.shape
    max_patches = torch.argmax(patch_scores, dim=1)
    max_patches_features = embedding.reshape(batch_size, num_patches, -1)[torch.arange(batch_size), max_patches]
    score = patch_scores[torch.arange(batch_size), max_patches]
    nn_index = locations[torch.arange(batch_size), max_patches]
    nn_sample = bank[nn_index, :]
    _, support_samples = nearest_neighbors(nn_sample, bank, n_neighbors=min(num_neighbors, bank.shape[0]))
    distances = euclidean_dist(max_patches_features.unsqueeze(1), bank[support_samples])
    weights = (1 - F.softmax(distances.squeeze(1), 1))[..., 0]
    return weights * score


def gaussian_blur(x, sigma):
    """anomalib GaussianBlur2d: kernel 2*int(4*sigma+0.5)+1, normalised, reflect padding, separable."""
    radius = int(4.0 * sigma + 0.5)
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-(t ** 2) / (2 * sigma ** 2))
    k = k / k.sum()
    x = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    return F.conv2d(x, k.view(1, 1, -1, 1))


def main():
    d = sys.argv[1]
    params = json.load(open(os.path.join(d, "params.json")))
    k = int(params["num_neighbors"])
    size = int(params["input_size"])
    sigma = float(params["sigma"])
    torch.set_num_threads(2)
    bank = torch.from_numpy(np.load(os.path.join(d, "bank.npy"))).float()
    emb_nhwc = torch.from_numpy(np.load(os.path.join(d, "embedding.npy"))).float()
    b, h, w, c = emb_nhwc.shape
    with torch.no_grad():
        layers = sorted(f for f in os.listdir(d) if f.startswith("layer_") and f.endswith(".npy"))
        if layers:
            feats = [torch.from_numpy(np.load(os.path.join(d, f))).float().permute(0, 3, 1, 2) for f in layers]
            pool = torch.nn.AvgPool2d(3, 1, 1)
            feats = [pool(f) for f in feats]
            emb = feats[0]
            for f in feats[1:]:
                emb = torch.cat((emb, F.interpolate(f, size=emb.shape[-2:], mode="bilinear")), 1)
            np.save(os.path.join(d, "embedding_ref.npy"), emb.permute(0, 2, 3, 1).contiguous().numpy())
        # anomalib reshape_embedding: [B, C, h, w] -> [B*h*w, C] in row-major patch order
        embedding = emb_nhwc.reshape(-1, c)
        patch_scores, locations = nearest_neighbors(embedding, bank, n_neighbors=1)
        patch_scores = patch_scores.reshape((b, -1))
        locations = locations.reshape((b, -1))
        pred_score = compute_anomaly_score(patch_scores, locations, embedding, bank, k)
        patch_maps = patch_scores.reshape((b, 1, h, w))
        maps = gaussian_blur(F.interpolate(patch_maps, size=(size, size)), sigma)
    np.save(os.path.join(d, "patch_scores.npy"), patch_scores.reshape(b, h, w).numpy())
    np.save(os.path.join(d, "image_scores.npy"), pred_score.numpy())
    np.save(os.path.join(d, "maps.npy"), maps[:, 0].numpy())
    print(json.dumps({"bank": list(bank.shape), "embedding": [b, h, w, c], "torch": torch.__version__}))


if __name__ == "__main__":
    main()
