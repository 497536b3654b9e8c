// A real browser as a WebSocket client, for the listen and relay tests:
//   node browser_client.js CHROMIUM URL MODE [PROTOCOL...]
// launches Chromium (headless, fresh profile, loopback only) through
// puppeteer-core, runs `new WebSocket(URL, PROTOCOLS)` in a blank page and
// prints what the page sees as JSON lines on stdout:
//   {"event":"open","protocol":"chat"}
//   {"event":"message","data":"hello"}
//   {"event":"close","code":4001,"reason":"bye","wasClean":true}
// MODE "normal": after the first message the page sends "from the browser".
// MODE "early": the page calls send() right after new WebSocket (while
// CONNECTING) and reports {"event":"send-error","name":...}; once open it
// sends "after open".
// MODE "echo": once open the page sends "from the browser" (for an echo
// server, through a relay).
// The script exits after the close event (status 0), or after 30 s (1).
const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

const [executablePath, url, mode, ...protocols] = process.argv.slice(2);

function out(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'wsinspect-chromium-'));
  const browser = await puppeteer.launch({
    executablePath,
    headless: false, // the flags below say it, exactly
    pipe: true, // DevTools over a pipe: the browser opens no port
    ignoreDefaultArgs: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--user-data-dir=' + profile, '--remote-debugging-pipe', 'about:blank',
    ],
  });
  const timer = setTimeout(() => {
    out({ event: 'timeout' });
    browser.close().finally(() => process.exit(1));
  }, 30000);
  try {
    const page = (await browser.pages())[0] || (await browser.newPage());
    let closed;
    const done = new Promise((resolve) => { closed = resolve; });
    await page.exposeFunction('report', (obj) => {
      out(obj);
      if (obj.event === 'close') closed();
    });
    await page.evaluate((url, mode, protocols) => {
      const ws = new WebSocket(url, protocols);
      if (mode === 'early') {
        try {
          ws.send('too early');
          window.report({ event: 'sent-early' });
        } catch (e) {
          window.report({ event: 'send-error', name: e.name, message: e.message });
        }
      }
      let first = true;
      ws.onopen = () => {
        window.report({ event: 'open', protocol: ws.protocol });
        if (mode === 'early') ws.send('after open');
        if (mode === 'echo') ws.send('from the browser');
      };
      ws.onmessage = (e) => {
        window.report({ event: 'message', data: String(e.data) });
        if (first && mode === 'normal') ws.send('from the browser');
        first = false;
      };
      ws.onerror = () => window.report({ event: 'error' });
      ws.onclose = (e) => window.report({ event: 'close', code: e.code, reason: e.reason, wasClean: e.wasClean });
    }, url, mode, protocols);
    await done;
  } finally {
    clearTimeout(timer);
    await browser.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
