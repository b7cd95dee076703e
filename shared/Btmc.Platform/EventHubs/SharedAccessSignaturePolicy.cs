using Azure.Core;
using Azure.Core.Pipeline;

namespace Btmc.Platform.EventHubs;

/// <summary>
/// Sets <c>Authorization: SharedAccessSignature ...</c> on every try (it sits after the retry policy), signing a new
/// token when the cached one is within <see cref="RenewBefore"/> of expiring.
/// </summary>
internal sealed class SharedAccessSignaturePolicy(
    string resourceUri, string keyName, string key, TimeSpan lifetime, TimeProvider timeProvider) : HttpPipelineSynchronousPolicy
{
    internal static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(5);

    private readonly Lock _gate = new();
    private (string Value, DateTimeOffset ExpiresOn)? _token;

    public override void OnSendingRequest(HttpMessage message) =>
        message.Request.Headers.SetValue(HttpHeader.Names.Authorization, CurrentToken());

    private string CurrentToken()
    {
        lock (_gate)
        {
            var now = timeProvider.GetUtcNow();
            if (_token is not { } token || token.ExpiresOn - now <= RenewBefore)
            {
                var expiresOn = now + lifetime;
                token = (SharedAccessSignature.Create(resourceUri, keyName, key, expiresOn), expiresOn);
                _token = token;
            }

            return token.Value;
        }
    }
}
