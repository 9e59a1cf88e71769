// Lighthouse (performance, accessibility) on console screens, signed in: the session from
// POST /v1/sessions is put where the console keeps it (localStorage "yutang.session", see
// console/src/stores/auth.ts) and Lighthouse is told not to reset storage before navigating.
// Usage: BASE=http://127.0.0.1:8000 SESSION='{"token":...}' SCREENS='overview=/console/overview,...'
//        FORM_FACTORS=desktop,mobile node audit.mjs  -> one JSON line on stdout
import lighthouse from 'lighthouse'
import desktopConfig from 'lighthouse/core/config/desktop-config.js'
import puppeteer from 'puppeteer-core'

const base = process.env.BASE
const session = process.env.SESSION
const screens = (process.env.SCREENS || 'overview=/console/overview,livecodes=/console/livecodes')
  .split(',').map((s) => s.split('='))
const formFactors = (process.env.FORM_FACTORS || 'desktop,mobile').split(',')
const browser = await puppeteer.launch({
  executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
  headless: true, // the new headless mode (--headless=new)
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
})
const out = { chromium: await browser.version(), lighthouse: null, results: [] }
try {
  const page = await browser.newPage()
  await page.goto(base + '/console/login', { waitUntil: 'load' })
  await page.evaluate((s) => localStorage.setItem('yutang.session', s), session)
  for (const formFactor of formFactors) {
    for (const [name, path] of screens) {
      const flags = {
        logLevel: 'error', output: 'json', disableStorageReset: true,
        onlyCategories: ['performance', 'accessibility'],
      }
      const config = formFactor === 'desktop' ? desktopConfig : undefined
      const r = await lighthouse(base + path, flags, config, page)
      const lhr = r.lhr
      if (lhr.runtimeError) throw new Error(`${name}: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`)
      out.lighthouse = lhr.lighthouseVersion
      const a = lhr.audits
      const failing = Object.values(lhr.categories.accessibility.auditRefs)
        .filter((ref) => ref.weight > 0 && a[ref.id].score !== null && a[ref.id].score < 1)
        .map((ref) => ref.id)
      out.results.push({
        screen: name, path, formFactor, finalUrl: lhr.finalDisplayedUrl,
        performance: Math.round(lhr.categories.performance.score * 100),
        accessibility: Math.round(lhr.categories.accessibility.score * 100),
        fcp_ms: a['first-contentful-paint'].numericValue,
        lcp_ms: a['largest-contentful-paint'].numericValue,
        tbt_ms: a['total-blocking-time'].numericValue,
        cls: a['cumulative-layout-shift'].numericValue,
        benchmarkIndex: lhr.environment.benchmarkIndex,
        a11yFailing: failing.map((id) => ({
          id, nodes: (a[id].details?.items || []).slice(0, 5).map((i) => `${i.node?.selector} ${i.node?.snippet} ${(i.node?.explanation || '').slice(0, 160)}`),
        })),
        layoutShifts: (a['layout-shifts']?.details?.items || []).slice(0, 5)
          .map((i) => `${i.score?.toFixed?.(3)} ${i.node?.selector || ''}`),
        opportunities: Object.values(a).filter((x) => x.details?.type === 'opportunity' && x.score !== null && x.score < 0.9)
          .map((x) => `${x.id}: ${x.displayValue || ''}`),
      })
    }
  }
} finally {
  await browser.close()
}
console.log(JSON.stringify(out))
