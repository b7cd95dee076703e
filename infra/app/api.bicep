// The function app: a Linux Azure Functions custom handler (host.json: customHandler, executable `handler`).
// Flex Consumption (runtime `custom`): the one plan whose deployment reads the package from blob storage with the
// app's identity, which shared-key-free storage needs (an Elastic Premium option was dropped: it ran from a package
// with no content share, which cannot work with shared keys disabled; issue 15). Every app setting the code reads in Azure is set here (tests/Btmc.Infra.Tests checks it against the
// code); everything authenticates with the one user-assigned identity (credential=managedidentity + clientId).
param name string
param planName string
param location string = resourceGroup().location
param tags object = {}

param flexMaximumInstanceCount int = 100

@description('Resource id and client id of the function app\'s user-assigned identity.')
param identityId string
param identityClientId string

param applicationInsightsName string
param storageAccountName string
param deploymentContainerName string
param eventHubsNamespaceName string

@description('Supply:Partitions: equal to the supply-events hub\'s partition count (eventhubs.bicep).')
param supplyPartitions int

@description('Governance:DeploymentId: the ledger\'s domain is btmc/<deploymentId>/governance.')
param deploymentId string

@description('The producers this app signs for, and their versioned Key Vault key ids (post-provision hook).')
param producerIds array
param producerKeyIds string = ''

@description('Compute sharing (issue 6): the Batch account URL, the GPU pool, the pool nodes\' identity.')
param batchAccountUrl string
param batchPoolId string
param workerIdentityId string

var storageSuffix = environment().suffixes.storage
var keyIds = empty(trim(producerKeyIds)) ? [] : map(split(producerKeyIds, ','), id => trim(id))

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

// Linux Flex Consumption (reserved).
resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

var appSettings = union({
  // ---- Functions host: its storage (timers, Event Hubs checkpoints, keys) and telemetry, all with the identity.
  AzureWebJobsStorage__accountName: storageAccountName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identityClientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

  // ---- Ledger tables in Azure Table storage (docs/storage-layout.md).
  Tables__ServiceUri: 'https://${storageAccountName}.table.${storageSuffix}'
  Tables__credential: 'managedidentity'
  Tables__clientId: identityClientId
  Supply__Partitions: string(supplyPartitions)
  Supply__SealMaxEvents: '2000' // at most 2,000 entities in one block's entries partition

  // ---- The supply-events stream: the host's trigger and the handler's publisher read the same connection.
  SupplyEvents__fullyQualifiedNamespace: '${eventHubsNamespaceName}.servicebus.windows.net'
  SupplyEvents__credential: 'managedidentity'
  SupplyEvents__clientId: identityClientId

  // ---- Producer keys in Key Vault (Producers__N__* below) and governance (docs/dpos.md).
  KeyVault__credential: 'managedidentity'
  KeyVault__clientId: identityClientId
  Governance__DeploymentId: deploymentId
  Governance__CommitteeFile: 'deploy/committee.json' // in the package, relative to the app root (deploy/README.md)

  // ---- Partners (docs/partners.md): the registry ships in the package (read-only there); partners present their
  // own named Functions host key. App Service authentication is not enabled, so its principal header is not trusted.
  Partners__RegistryFile: 'deploy/partners.json'
  Partners__TrustAppServicePrincipal: 'false'

  // ---- The handler's local folder. The package is mounted read-only, so a writable path: /tmp, per instance and
  // lost on restart, which is fine because in Azure it holds nothing durable (tables, events, keys and the registry
  // are all elsewhere).
  DataDirectory: '/tmp/btmc'

  // ---- Compute sharing (issue 6): mining-events connection, Batch data plane, compute outputs.
  MiningEvents__fullyQualifiedNamespace: '${eventHubsNamespaceName}.servicebus.windows.net'
  MiningEvents__credential: 'managedidentity'
  MiningEvents__clientId: identityClientId
  Batch__AccountUrl: batchAccountUrl
  Batch__PoolId: batchPoolId
  Batch__credential: 'managedidentity'
  Batch__clientId: identityClientId
  Batch__NodeIdentityResourceId: workerIdentityId // tasks' output files upload with the pool identity
  Blobs__ServiceUri: 'https://${storageAccountName}.blob.${storageSuffix}'
}, producerSettings)

// Producers__N__Id / Producers__N__Key, once the post-provision hook has created the keys (it also sets them on the
// app directly the first time, before azd deploys the code).
var producerSettings = reduce(range(0, min(length(producerIds), length(keyIds))), {}, (settings, i) => union(settings, {
  'Producers__${i}__Id': producerIds[i]
  'Producers__${i}__Key': keyIds[i]
}))

module site 'br/public:avm/res/web/site:0.19.3' = {
  name: 'site'
  params: {
    kind: 'functionapp,linux'
    name: name
    location: location
    tags: union(tags, {
      'azd-service-name': 'api'
    })
    serverFarmResourceId: plan.id
    managedIdentities: {
      userAssignedResourceIds: [
        identityId
      ]
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storageAccount.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: 2048
        maximumInstanceCount: flexMaximumInstanceCount
      }
      runtime: {
        name: 'custom'
        version: '1.0'
      }
    }
    siteConfig: {
      alwaysOn: false
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      appSettings: map(items(appSettings), setting => {
        name: setting.key
        value: setting.value
      })
    }
  }
}

output name string = site.outputs.name
// The default host name Azure gave the app (read once the site module has deployed it).
output uri string = 'https://${reference(resourceId('Microsoft.Web/sites', site.outputs.name), '2024-04-01').defaultHostName}'
