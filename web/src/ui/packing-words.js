// What D's numbers on the picture are when D judges packs (PacGAN packing): the frame says how
// many packs each value and arrow averages (`partners`, picture.py). The partners are not
// drawn at random: the pool (current fakes, or the shown reals) is grouped by k-means and the
// point is packed with each group's centre in every slot, weighted by the group's share
// (partners.py), so the mean stands for every partner in the pool. Pure: main.js and the
// data-space view write the words into the page.

/**
 * The words for a frame's pack count (1 or missing: no packing). Returns
 * `{legend, legendHow, heatmap, gradients, field, fakeD, realD, pointD}`: the sentence under the
 * picture and its "How it's computed" (legendHow), sentences added to the layers' explanations
 * (all empty without packing), and what the tooltip adds after a fake's, a real sample's and any
 * other point's D value.
 */
export function packingWords(partners) {
  const k = Number(partners) || 1;
  if (k <= 1) return { legend: "", legendHow: "", heatmap: "", gradients: "", field: "", fakeD: "", realD: "", pointD: "" };
  const groups = "clusters of the current fake samples (each cluster's centre, weighted by its share)";
  return {
    legend:
      `Packing: D judges packs, so the heatmap, the fakes' D values and the arrows are averages over packs ` +
      `with the current fakes.`,
    legendHow:
      `This is what a fake at that point meets in G's update. To keep it quick, the fakes are grouped into ` +
      `clusters of nearby points, and the point is packed with each cluster's centre, in every slot of the pack: ` +
      `${k} packs in all, averaged with weights by each cluster's share of the fakes. Real samples' D values ` +
      `(in the tooltip) are averaged the same way over clusters of the shown real samples, as in D's update.`,
    heatmap:
      `D judges packs of samples: the colour at a point is D's value for a fake placed there, averaged over ` +
      `${k} packs with partners from ${groups}.`,
    gradients: `D judges packs: each arrow is averaged over ${k} packs with partners from ${groups}.`,
    field: `Under packing, averaged over ${k} packs with partners from ${groups}.`,
    fakeD: ` (weighted mean of ${k} packs with clusters of fakes)`,
    realD: ` (weighted mean of ${k} packs with clusters of real samples)`,
    pointD: ` (a fake here, weighted mean of ${k} packs with clusters of fakes)`,
  };
}
