// PM2 process file: `pm2 start ecosystem.config.js` starts the app once;
// releases then run the approved `pm2 restart localizevideos-app --update-env`.
'use strict';

module.exports = {
  apps: [
    {
      name: 'localizevideos-app',
      script: 'server.js',
      cwd: __dirname,
      env: {
        NODE_ENV: 'production',
        PORT: process.env.PORT || '3000',
      },
      // A crash loop is a failed release, not something to hide.
      max_restarts: 3,
      min_uptime: '2s',
      kill_timeout: 3000,
    },
  ],
};
