// `require('iqa-node/ssim.js')` for resolvers that ignore package.json "exports" (Jest <= 27,
// older bundlers): the same module as the exports map's "./ssim.js".
module.exports = require('./dist/cjs/compat/ssimjs.js');
