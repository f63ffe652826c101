// A real OpenID Connect provider for the single sign-on tests (npm package `oidc-provider`,
// pinned in package.json): node tests/oidc_provider.mjs CONFIG.json
//
// CONFIG: {"port": 0, "issuer": "http://127.0.0.1:PORT", "clients": [...], "users_file": "users.json",
//          "clock_offset_seconds": 0, "id_token_ttl": 0}
// - users are read from users_file at each sign-in ({"alice": {"email": …, "groups": […]}}), so a
//   test can move a person to another group between two sign-ins;
// - the login page is minimal: POST /interaction/<uid>/login with `login=<user>` signs that user in
//   (no password: the provider's own authentication is not what Pilotis tests); consent is given
//   for every scope the client asks (a first-party client);
// - clock_offset_seconds shifts the provider's clock and id_token_ttl shortens its ID tokens: with
//   -1800 and 60, a provider whose ID tokens expired half an hour ago (its cookies still live);
// - "jwks" (optional): the provider's signing keys (private JWKS), so that a test can also sign
//   tokens of its own with them (forged back-channel logout tokens); default: the package's dev keys;
// - back-channel logout is enabled: a client with `backchannel_logout_uri` receives a signed
//   logout token when the person's session at the provider ends.
// Prints "ready <port>" once listening.

import { readFileSync } from "node:fs";

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
if (config.clock_offset_seconds) {
  const realNow = Date.now;
  Date.now = () => realNow() + config.clock_offset_seconds * 1000;
}
const { default: Provider } = await import("oidc-provider");

function users() {
  return JSON.parse(readFileSync(config.users_file, "utf8"));
}

const provider = new Provider(config.issuer, {
  clients: config.clients,
  cookies: { keys: ["pilotis-test-cookie-key"] },
  ...(config.jwks ? { jwks: config.jwks } : {}),
  // The package refuses to post to special-use addresses (its SSRF guard, a dispatcher it adds to
  // each request); everything here lives on 127.0.0.1, so the test provider posts without it.
  fetch: (url, options) => {
    delete options.dispatcher;
    return globalThis.fetch(url, options);
  },
  ttl: config.id_token_ttl ? { IdToken: config.id_token_ttl } : {},
  claims: {
    openid: ["sub"],
    email: ["email", "email_verified"],
    profile: ["name", "preferred_username", "given_name", "family_name"],
    groups: ["groups"],
    organization: ["siret"],
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
    backchannelLogout: { enabled: true },
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, id) {
    const user = users()[id];
    if (!user) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...user }; } };
  },
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) {
      const existing = await ctx.oidc.provider.Grant.find(grantId);
      if (existing) return existing;
    }
    const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
    grant.addOIDCScope("openid email profile groups organization");
    await grant.save();
    return grant;
  },
});

provider.on("backchannel.error", (ctx, err, client) => {
  console.error(`back-channel logout to ${client.backchannelLogoutUri} failed: ${err.message} ${err.cause ? err.cause.message || err.cause : ""}`);
});

async function readForm(req) {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

provider.use(async (ctx, next) => {
  const match = ctx.path.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) return next();
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (ctx.method === "GET") {
    ctx.type = "html";
    ctx.body = `<!doctype html><form method="post" action="/interaction/${details.uid}/login">`
      + `<label>login <input name="login"></label><button>ok</button></form>`;
    return;
  }
  const form = await readForm(ctx.req);
  const login = form.get("login") || "";
  if (!users()[login]) {
    ctx.status = 400;
    ctx.body = "unknown user";
    return;
  }
  const target = await provider.interactionResult(ctx.req, ctx.res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  ctx.status = 303;
  ctx.redirect(target);
});

const server = provider.listen(config.port, "127.0.0.1", () => {
  console.log(`ready ${server.address().port}`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
