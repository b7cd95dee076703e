using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Btmc.Platform.Azure.Batch;

/// <summary>
/// Entra ID bearer tokens for the Batch data plane: Azure.Core's <see cref="BearerTokenAuthenticationPolicy"/> (token
/// cache, refresh, continuous-access-evaluation claims challenges) for scope <see cref="BatchClient.TokenScope"/>, except
/// that plain http is allowed to a loopback host (a local test server), where the base policy insists on https.
/// Anything else that is not https is refused before a token is requested.
/// </summary>
internal sealed class BatchAuthenticationPolicy(TokenCredential credential)
    : BearerTokenAuthenticationPolicy(credential, BatchClient.TokenScope)
{
    /// <summary>True for https, and for plain http to <c>localhost</c> or a loopback address.</summary>
    public static bool MaySendTokenTo(Uri uri) =>
        uri.Scheme == Uri.UriSchemeHttps
        || (uri.Scheme == Uri.UriSchemeHttp
            && (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
                || (IPAddress.TryParse(uri.IdnHost, out var address) && IPAddress.IsLoopback(address))));

    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessCoreAsync(message, pipeline, async: true);

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessCoreAsync(message, pipeline, async: false).AsTask().GetAwaiter().GetResult();

    private async ValueTask ProcessCoreAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline, bool async)
    {
        if (!MaySendTokenTo(message.Request.Uri.ToUri()))
        {
            throw new InvalidOperationException(
                "Bearer token authentication is not permitted for non TLS protected (https) endpoints other than loopback.");
        }

        if (async)
        {
            await AuthorizeRequestAsync(message).ConfigureAwait(false);
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
        else
        {
            AuthorizeRequest(message);
            ProcessNext(message, pipeline);
        }

        // A claims challenge (continuous access evaluation) gets one more try with a token carrying those claims.
        if (message.Response.Status == (int)HttpStatusCode.Unauthorized
            && message.Response.Headers.Contains(HttpHeader.Names.WwwAuthenticate)
            && (async ? await AuthorizeRequestOnChallengeAsync(message).ConfigureAwait(false) : AuthorizeRequestOnChallenge(message)))
        {
            if (async)
            {
                await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            }
            else
            {
                ProcessNext(message, pipeline);
            }
        }
    }
}
