// The scores a clean-root install must reproduce (scripts/prebuild-static/check-clean-roots.sh):
// the default metric (BRISQUE), NIQE and sharpness on a JPEG, a PNG and a WebP, SSIM on a pair,
// and the HyperIQA test fixture on CPU. Prints one JSON array.
//   node clean-root-scores.cjs MODULE DATA_DIR
const iqa = require(process.argv[2]);
const data = process.argv[3];
(async () => {
  const out = [];
  for (const f of ['samples/dune_jpeg-q10.jpg', 'samples/aqua_pristine.png', 'test/fixtures/images/rgb8.webp']) {
    out.push(await iqa.brisque(`${data}/${f}`), await iqa.sharpness(`${data}/${f}`));
  }
  out.push(await iqa.niqe(`${data}/samples/aqua_pristine.png`), await iqa.niqe(`${data}/samples/dune_jpeg-q10.jpg`));
  out.push(await iqa.ssim(`${data}/samples/aqua_pristine.png`, `${data}/samples/aqua_blur-s3.png`));
  const model = await iqa.Model.load(`${data}/test/fixtures/hyperiqa-tiny/model.json`, { device: 'cpu' });
  out.push(await model.score(`${data}/samples/aqua_pristine.png`));
  await model.close();
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
