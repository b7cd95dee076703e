using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// Key Vault's challenge-based authentication, after the official client's policy of the same name:
/// <list type="number">
/// <item>The first request to a vault goes out without a token and without its body (the body is kept aside), so no
/// payload ever leaves unauthenticated.</item>
/// <item>The vault answers 401 with <c>WWW-Authenticate: Bearer authorization="https://login.microsoftonline.com/{tenant}",
/// resource="https://vault.azure.net"</c> (or <c>scope="…/.default"</c>; <c>authorization_uri</c> for
/// <c>authorization</c>). The scope is <c>{resource}/.default</c> (or the scope as given), the tenant the first path
/// segment of the authorization URI.</item>
/// <item>Unless <see cref="KeyClientOptions.DisableChallengeResourceVerification"/> is set, the vault's host must end
/// with <c>"." + the resource's host</c>; otherwise <see cref="InvalidOperationException"/> and no token is requested.</item>
/// <item>A token for that scope and tenant (continuous access evaluation enabled) is put on the request, the body
/// restored, and the request sent again.</item>
/// </list>
/// The challenge is then cached per vault authority (host and port), so later requests carry a token at once. A later
/// 401 with a different challenge (another tenant or resource) replaces it and the request is re-sent once with a
/// token for it; a 401 with <c>error="insufficient_claims"</c> and <c>claims</c> gets one re-send with a token for
/// those claims. A 401 repeating the challenge the rejected token was issued for is returned as it is.
/// Plain http is allowed only to a loopback host (see <see cref="KeyVaultPipeline.MaySendTokenTo"/>).
/// </summary>
/// <remarks>
/// Differences from the official policy: the challenge cache belongs to the policy (one pipeline, shared by a
/// <see cref="KeyClient"/> and the <see cref="CryptographyClient"/>s it hands out) rather than to the process; a
/// repeated challenge for a rejected token is not re-sent; no proof-of-possession tokens.
/// </remarks>
internal sealed class ChallengeBasedAuthenticationPolicy : BearerTokenAuthenticationPolicy
{
    private const string StashedContentKey = "Btmc.Platform.Keys.KeyVault.StashedContent";

    private readonly bool _verifyChallengeResource;
    private readonly ConcurrentDictionary<string, ChallengeParameters> _challenges = new(StringComparer.OrdinalIgnoreCase);

    public ChallengeBasedAuthenticationPolicy(TokenCredential credential, bool disableChallengeResourceVerification)
        : base(credential, Array.Empty<string>())
    {
        _verifyChallengeResource = !disableChallengeResourceVerification;
    }

    /// <inheritdoc />
    public override ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessCoreAsync(message, pipeline, async: true);

    /// <inheritdoc />
    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        ProcessCoreAsync(message, pipeline, async: false).AsTask().GetAwaiter().GetResult();

    /// <summary>The challenge's scope and tenant for the vault at <paramref name="authority"/>, once seen.</summary>
    internal ChallengeParameters? CachedChallenge(string authority) => _challenges.GetValueOrDefault(authority);

    /// <summary>
    /// Checks that the challenge's resource (<paramref name="scope"/>) is a parent domain of the vault's host.
    /// </summary>
    /// <exception cref="InvalidOperationException">It is not, or the scope is not an absolute URI.</exception>
    internal static void VerifyResource(Uri requestUri, string scope)
    {
        if (!Uri.TryCreate(scope, UriKind.Absolute, out var scopeUri))
        {
            throw new InvalidOperationException($"The Key Vault challenge names an invalid resource '{scope}'.");
        }

        if (!requestUri.Host.EndsWith("." + scopeUri.Host, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"The Key Vault challenge resource '{scopeUri.Host}' does not match the vault's host '{requestUri.Host}': "
                + "a token is only requested for a resource whose domain contains the vault (vault.azure.net for "
                + "myvault.vault.azure.net), so no token was requested. For a vault whose host differs from its resource "
                + "(an emulator, an alias), set KeyClientOptions.DisableChallengeResourceVerification.");
        }
    }

    /// <summary>The tenant of an authorization URI: its first path segment (<c>https://login.microsoftonline.com/{tenant}</c>).</summary>
    /// <exception cref="InvalidOperationException">The URI is missing, not absolute, or names no tenant.</exception>
    internal static string TenantOf(string? authorization)
    {
        if (!Uri.TryCreate(authorization, UriKind.Absolute, out var uri) || uri.Segments.Length < 2)
        {
            throw new InvalidOperationException(
                $"The Key Vault challenge's authorization URI '{authorization}' is missing or names no tenant.");
        }

        return uri.Segments[1].Trim('/');
    }

    protected override ValueTask AuthorizeRequestAsync(HttpMessage message) => AuthorizeCoreAsync(message, async: true);

    protected override void AuthorizeRequest(HttpMessage message) =>
        AuthorizeCoreAsync(message, async: false).AsTask().GetAwaiter().GetResult();

    protected override ValueTask<bool> AuthorizeRequestOnChallengeAsync(HttpMessage message) => OnChallengeCoreAsync(message, async: true);

    protected override bool AuthorizeRequestOnChallenge(HttpMessage message) =>
        OnChallengeCoreAsync(message, async: false).AsTask().GetAwaiter().GetResult();

    private async ValueTask ProcessCoreAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline, bool async)
    {
        if (!KeyVaultPipeline.MaySendTokenTo(message.Request.Uri.ToUri()))
        {
            throw new InvalidOperationException(
                "Bearer token authentication is not permitted for non TLS protected (https) endpoints other than loopback.");
        }

        if (async)
        {
            await AuthorizeRequestAsync(message).ConfigureAwait(false);
        }
        else
        {
            AuthorizeRequest(message);
        }

        await SendAsync(message, pipeline, async).ConfigureAwait(false);
        if (!IsChallenge(message.Response) || !await AuthorizeOnChallengeAsync(message, async).ConfigureAwait(false))
        {
            return;
        }

        await SendAsync(message, pipeline, async).ConfigureAwait(false);

        // Continuous access evaluation: a fresh token may still lack claims the vault wants; one more round for them.
        if (IsChallenge(message.Response)
            && BearerChallenge.Parse(WwwAuthenticate(message.Response)) is { } parameters
            && parameters.ContainsKey("claims")
            && await AuthorizeOnChallengeAsync(message, async).ConfigureAwait(false))
        {
            await SendAsync(message, pipeline, async).ConfigureAwait(false);
        }
    }

    private async ValueTask AuthorizeCoreAsync(HttpMessage message, bool async)
    {
        if (_challenges.TryGetValue(Authority(message.Request), out var challenge))
        {
            // A retry of a bodiless first request, after another request has met the challenge, gets its body back.
            RestoreContent(message);
            await AuthenticateAsync(message, challenge, claims: null, async).ConfigureAwait(false);
            return;
        }

        // No challenge yet: send without the body. A retry of this bodiless request keeps the body first set aside.
        if (!message.TryGetProperty(StashedContentKey, out _))
        {
            message.SetProperty(StashedContentKey, new StashedContent(message.Request.Content));
            message.Request.Content = null;
        }
    }

    private async ValueTask<bool> OnChallengeCoreAsync(HttpMessage message, bool async)
    {
        RestoreContent(message);

        var parameters = BearerChallenge.Parse(WwwAuthenticate(message.Response));
        if (parameters is null)
        {
            return false;
        }

        var authority = Authority(message.Request);
        if (parameters.TryGetValue("error", out var error) && error == "insufficient_claims"
            && parameters.TryGetValue("claims", out var encodedClaims))
        {
            var claims = DecodeClaims(encodedClaims);
            if (claims is null || !_challenges.TryGetValue(authority, out var known))
            {
                return false;
            }

            await AuthenticateAsync(message, known, claims, async).ConfigureAwait(false);
            return true;
        }

        string? scope = parameters.TryGetValue("resource", out var resource) ? resource.TrimEnd('/') + "/.default"
            : parameters.GetValueOrDefault("scope");
        if (string.IsNullOrEmpty(scope))
        {
            return false;
        }

        if (_verifyChallengeResource)
        {
            VerifyResource(message.Request.Uri.ToUri(), scope);
        }

        var tenant = TenantOf(parameters.GetValueOrDefault("authorization") ?? parameters.GetValueOrDefault("authorization_uri"));
        var challenge = new ChallengeParameters(scope, tenant);
        var hadToken = message.Request.Headers.Contains(HttpHeader.Names.Authorization);
        if (hadToken && _challenges.TryGetValue(authority, out var previous) && previous == challenge)
        {
            return false; // the token for this very challenge was refused; the same token again would be too
        }

        _challenges[authority] = challenge;
        await AuthenticateAsync(message, challenge, claims: null, async).ConfigureAwait(false);
        return true;
    }

    private static void RestoreContent(HttpMessage message)
    {
        if (message.Request.Content is null && message.TryGetProperty(StashedContentKey, out var stashed))
        {
            message.Request.Content = (stashed as StashedContent)?.Content;
        }
    }

    private async ValueTask<bool> AuthorizeOnChallengeAsync(HttpMessage message, bool async) =>
        async ? await AuthorizeRequestOnChallengeAsync(message).ConfigureAwait(false) : AuthorizeRequestOnChallenge(message);

    private async ValueTask AuthenticateAsync(HttpMessage message, ChallengeParameters challenge, string? claims, bool async)
    {
        var context = new TokenRequestContext(
            [challenge.Scope],
            parentRequestId: message.Request.ClientRequestId,
            claims: claims,
            tenantId: challenge.TenantId,
            isCaeEnabled: true);
        if (async)
        {
            await AuthenticateAndAuthorizeRequestAsync(message, context).ConfigureAwait(false);
        }
        else
        {
            AuthenticateAndAuthorizeRequest(message, context);
        }
    }

    private static async ValueTask SendAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline, bool async)
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

    private static bool IsChallenge(Response response) =>
        response.Status == (int)HttpStatusCode.Unauthorized && response.Headers.Contains(HttpHeader.Names.WwwAuthenticate);

    private static string? WwwAuthenticate(Response response) =>
        response.Headers.TryGetValue(HttpHeader.Names.WwwAuthenticate, out var value) ? value : null;

    private static string? DecodeClaims(string encoded)
    {
        try
        {
            return encoded.Length == 0 ? null : Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Authority(Request request)
    {
        var uri = request.Uri.ToUri();
        return uri.Host + ":" + uri.Port.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>A request's body, set aside while the request goes out unauthenticated (null for a request without one).</summary>
    private sealed record StashedContent(RequestContent? Content);

    /// <summary>What a challenge asks for: the token scope and the tenant that issues it.</summary>
    internal sealed record ChallengeParameters(string Scope, string TenantId);
}
