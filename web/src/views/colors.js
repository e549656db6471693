// Colour palettes. "ganlab" follows GAN Lab: real green, fake purple, gradients pink, and a
// purple - grey - green heatmap for D (fake - undecided - real). "cvd" is safe for the common
// colour-vision deficiencies (Okabe-Ito blue and orange, a blue - grey - orange heatmap).
import { rgb } from "d3-color";
import { interpolateRgb, piecewise } from "d3-interpolate";

export const PALETTES = {
  ganlab: {
    name: "GAN Lab (purple-green)",
    real: "rgb(0, 136, 55)",
    fake: "rgb(163, 62, 189)",
    gradient: "rgb(196, 20, 219)",
    discriminator: "rgb(68, 124, 228)",
    manifold: "rgb(163, 62, 189)",
    contour: "rgb(0, 100, 40)",
    heat: ["rgb(163, 62, 189)", "rgb(222, 222, 222)", "rgb(0, 136, 55)"],
  },
  cvd: {
    name: "Colour-blind safe (orange-blue)",
    real: "rgb(0, 114, 178)",
    fake: "rgb(213, 94, 0)",
    gradient: "rgb(204, 121, 167)",
    discriminator: "rgb(86, 180, 233)",
    manifold: "rgb(213, 94, 0)",
    contour: "rgb(0, 70, 120)",
    heat: ["rgb(230, 159, 0)", "rgb(225, 225, 225)", "rgb(86, 160, 220)"],
  },
};

/**
 * A 256-entry RGBA lookup table for D's heatmap: entry q is the colour of the quantized value
 * q / 255 (0 = surely fake, 1 = surely real). `alpha` is 0-255.
 */
export function heatmapLut(palette, alpha = 255) {
  const interp = piecewise(interpolateRgb, palette.heat);
  const lut = new Uint8ClampedArray(256 * 4);
  for (let q = 0; q < 256; q++) {
    const c = rgb(interp(q / 255));
    lut[4 * q] = c.r;
    lut[4 * q + 1] = c.g;
    lut[4 * q + 2] = c.b;
    lut[4 * q + 3] = alpha;
  }
  return lut;
}

/** The LUT as seen through `opacity` over a white page, opaque: drawing it needs no blending. */
export function overWhite(lut, opacity) {
  const out = new Uint8ClampedArray(lut.length);
  for (let i = 0; i < lut.length; i += 4) {
    for (let c = 0; c < 3; c++) out[i + c] = Math.round(lut[i + c] * opacity + 255 * (1 - opacity));
    out[i + 3] = 255;
  }
  return out;
}
