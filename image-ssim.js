// `require('iqa-node/image-ssim')` for resolvers that ignore package.json "exports" (Jest <= 27,
// older bundlers): the same module as the exports map's "./image-ssim".
module.exports = require('./dist/cjs/compat/image-ssim.js');
