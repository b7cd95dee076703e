using System.Net;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Btmc.Platform.Keys.KeyVault;

/// <summary>
/// The HTTP side shared by <see cref="KeyClient"/> and <see cref="CryptographyClient"/>: one Azure.Core pipeline per
/// vault (retry, then <see cref="ChallengeBasedAuthenticationPolicy"/> on every try), <c>api-version</c> on every
/// request, and non-success answers turned into <see cref="RequestFailedException"/> with the status and the
/// service's <c>{"error":{"code","message"}}</c>.
/// </summary>
internal sealed class KeyVaultPipeline
{
    private readonly HttpPipeline _pipeline;
    private readonly string _apiVersion;
    private readonly int _maxRetries;

    public KeyVaultPipeline(Uri vaultUri, TokenCredential credential, KeyClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(credential);
        ArgumentNullException.ThrowIfNull(options);
        VaultUri = ValidateVaultUri(vaultUri);
        _apiVersion = options.GetVersionString();
        _maxRetries = options.Retry.MaxRetries;
        _pipeline = HttpPipelineBuilder.Build(
            options,
            [],
            [new ChallengeBasedAuthenticationPolicy(credential, options.DisableChallengeResourceVerification)],
            new ResponseClassifier());
    }

    /// <summary>The vault's base address, <c>https://{vault}.vault.azure.net/</c>.</summary>
    public Uri VaultUri { get; }

    /// <summary>
    /// True when a bearer token may be sent to <paramref name="uri"/>: https, or plain http to this machine only
    /// (<c>localhost</c> or a loopback address), which is what a local test server or emulator listens on. The
    /// official client allows https only.
    /// </summary>
    public static bool MaySendTokenTo(Uri uri) =>
        uri.Scheme == Uri.UriSchemeHttps
        || (uri.Scheme == Uri.UriSchemeHttp
            && (string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
                || (IPAddress.TryParse(uri.IdnHost, out var address) && IPAddress.IsLoopback(address))));

    /// <summary>
    /// Sends <paramref name="body"/> (JSON, or none) to <c>{vault}{path}?api-version=..</c> and returns the 2xx
    /// response; any other answer throws <see cref="RequestFailedException"/> with the status, the service's error
    /// code and message. No response at all after the bounded retries throws it with status 0.
    /// </summary>
    public async Task<Response> SendAsync(RequestMethod method, string path, byte[]? body, CancellationToken cancellationToken)
    {
        var request = _pipeline.CreateRequest();
        request.Method = method;
        request.Uri.Reset(VaultUri);
        request.Uri.AppendPath(path, escape: false);
        request.Uri.AppendQuery("api-version", _apiVersion);
        request.Headers.SetValue(HttpHeader.Names.Accept, "application/json");
        if (body is not null)
        {
            request.Headers.SetValue(HttpHeader.Names.ContentType, "application/json");
            request.Content = RequestContent.Create(body);
        }

        Response response;
        try
        {
            response = await _pipeline.SendRequestAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (IsTransportFailure(exception, cancellationToken))
        {
            throw new RequestFailedException(
                0,
                $"Key Vault {method} {path} got no response after {_maxRetries + 1} attempt(s) at most: {exception.GetBaseException().Message}",
                null,
                exception);
        }

        if (response.Status is < 200 or >= 300)
        {
            // Azure.Core reads Key Vault's {"error":{"code":"KeyNotFound","message":"..."}} into ErrorCode and Message.
            throw new RequestFailedException(response);
        }

        return response;
    }

    /// <summary>Reads a success body (see <see cref="ResponseBody.Read"/>).</summary>
    public static T Read<T>(Response response, Func<JsonElement, T> read) => ResponseBody.Read(response, "Key Vault", read);

    private static Uri ValidateVaultUri(Uri vaultUri)
    {
        ArgumentNullException.ThrowIfNull(vaultUri);
        if (!vaultUri.IsAbsoluteUri || vaultUri.AbsolutePath != "/" || vaultUri.Query.Length > 0 || vaultUri.Fragment.Length > 0)
        {
            throw new ArgumentException($"'{vaultUri}' is not a vault address such as https://myvault.vault.azure.net/.", nameof(vaultUri));
        }

        if (!MaySendTokenTo(vaultUri))
        {
            throw new ArgumentException(
                $"'{vaultUri}' is not https; plain http is allowed only to localhost or a loopback address.", nameof(vaultUri));
        }

        return new Uri(vaultUri.GetLeftPart(UriPartial.Authority) + "/");
    }

    private static bool IsTransportFailure(Exception exception, CancellationToken cancellationToken) =>
        !cancellationToken.IsCancellationRequested
        && exception is AggregateException or OperationCanceledException or IOException or RequestFailedException { Status: 0 };
}
