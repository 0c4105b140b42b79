// Module hook for grade.mjs: lets the MDN HTTP Observatory's own scan()
// reach a server on non-default ports.
//
// @mdn/mdn-http-observatory 1.4.8 exports scan(hostname, options), and its
// retriever takes options ({ httpPort, httpsPort, path, headers }), but
// scan() calls `retrieve(hostname)` and drops them, so the package can only
// grade https://HOST:443/ and http://HOST:80/. This hook rewrites that one
// call to `retrieve(hostname, options)` as src/scanner/index.js is loaded;
// the retrieval, every test and the grading are the package's own code,
// unchanged. If a future version changes that line, the hook fails loudly
// rather than grade the wrong URL.

const SCANNER = "/@mdn/mdn-http-observatory/src/scanner/index.js";
const CALL = "await retrieve(hostname);";

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (!url.endsWith(SCANNER)) {
    return result;
  }
  const source =
    typeof result.source === "string"
      ? result.source
      : new TextDecoder().decode(result.source);
  if (!source.includes(CALL)) {
    throw new Error(
      `observatory hook: "${CALL}" not found in ${url}; update scripts/observatory.d/hooks.mjs for this version of the package`
    );
  }
  return {
    ...result,
    source: source.replace(CALL, "await retrieve(hostname, options);"),
  };
}
