import preact from "@preact/preset-vite";
import { defineConfig } from "vite";

/**
 * The web client (web/) is built into dist/web, which wrangler.toml serves as static assets.
 * Built files go under /static/, not Vite's default /assets/: that path is the engine's image route.
 */
export default defineConfig({
  root: "web",
  plugins: [preact()],
  build: {
    outDir: "../dist/web",
    emptyOutDir: true,
    assetsDir: "static",
    target: "es2022",
  },
});
