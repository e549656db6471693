// What the page says about the real density layer: whether it is the distribution's own law
// or an estimate from its data (the frame's real_density_kind and real_density_width), and
// where its lines lie. Pure: main.js writes the words into the page.
import { DENSITY_MASS } from "../views/distribution-renderer.js";
import { formatNumber } from "../views/math.js";

const percent = (p) => `${Math.round(p * 100)}%`;

/** "95%, 75%, 50% and 25%" for the contour levels' shares of the mass. */
export function massList(fractions = DENSITY_MASS) {
  const words = fractions.map(percent);
  return words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words.at(-1)}` : words.join("");
}

/**
 * The real density layer's words for a frame's `kind` ("exact", "kde", or null from a server
 * that does not say) and kernel `width`: `tag` (beside the layer's name), `title` (the layer's
 * tooltip) and `note` (the page's explanation of the layer ends with it).
 */
export function densityWords(kind, width) {
  const lines = `The lines enclose the densest regions holding ${massList()} of its mass.`;
  if (kind === "exact") {
    return {
      tag: "(true)",
      title: `Contour lines of the true density of the distribution (its mass in each cell of the picture's grid over the cell's area). ${lines}`,
      note: `${lines} Here it is the true density of the distribution, computed from its definition.`,
    };
  }
  if (kind === "kde") {
    const w = formatNumber(width);
    return {
      tag: "(estimated)",
      title: `Contour lines of the real data's density, estimated from the data (kernel density, width ${w} chosen by cross-validation). ${lines}`,
      note: `${lines} Here it is estimated from the data: a Gaussian kernel density of width ${w}, the width under which each point is best predicted by all the others (cross-validation).`,
    };
  }
  return { tag: "", title: `Contour lines of the real data's density. ${lines}`, note: lines };
}
