/**
 * A few of VS Code's theme colours (Dark Modern, Light Modern, High Contrast Dark and Light, the
 * last from VS Code 1.100's colour registry) for rendering the
 * explorer outside VS Code: the preview check and the README screenshot. Inside VS Code the
 * webview receives the real theme's variables instead.
 */
export type ThemeName = 'dark' | 'light' | 'high-contrast' | 'high-contrast-light';
export const THEME_NAMES: readonly ThemeName[] = ['dark', 'light', 'high-contrast', 'high-contrast-light'];

const common = {
  'font-family': 'system-ui, -apple-system, "Segoe UI", "Ubuntu", sans-serif',
  'font-size': '13px',
  'font-weight': 'normal',
  'editor-font-family': '"Droid Sans Mono", monospace',
};

const THEMES: Record<ThemeName, { bodyClass: string; vars: Record<string, string> }> = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      ...common,
      foreground: '#cccccc', descriptionForeground: '#9d9d9d', errorForeground: '#f85149', focusBorder: '#0078d4',
      'editor-background': '#1f1f1f', 'sideBar-background': '#181818', 'panel-border': '#2b2b2b',
      'button-background': '#0078d4', 'button-foreground': '#ffffff', 'button-hoverBackground': '#026ec1',
      'button-secondaryBackground': '#313131', 'button-secondaryForeground': '#cccccc', 'button-secondaryHoverBackground': '#3c3c3c', 'button-border': '#ffffff12',
      'list-hoverBackground': '#2a2d2e', 'list-activeSelectionBackground': '#04395e', 'list-activeSelectionForeground': '#ffffff',
      'list-inactiveSelectionBackground': '#37373d', 'list-focusOutline': '#0078d4',
      'charts-blue': '#3794ff', 'charts-orange': '#d18616', 'charts-green': '#89d185', 'charts-purple': '#b180d7',
      'editorWarning-foreground': '#cca700', 'editorError-foreground': '#f14c4c',
      'inputValidation-errorBackground': '#5a1d1d', 'inputValidation-warningBackground': '#352a05',
      'editor-findMatchHighlightBackground': '#ea5c0055', 'progressBar-background': '#0078d4',
      'settings-dropdownBackground': '#313131', 'settings-dropdownBorder': '#3c3c3c', 'settings-dropdownForeground': '#cccccc',
      'settings-checkboxBackground': '#313131', 'settings-checkboxBorder': '#3c3c3c', 'settings-checkboxForeground': '#cccccc',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      ...common,
      foreground: '#3b3b3b', descriptionForeground: '#717171', errorForeground: '#f85149', focusBorder: '#005fb8',
      'editor-background': '#ffffff', 'sideBar-background': '#f8f8f8', 'panel-border': '#e5e5e5',
      'button-background': '#005fb8', 'button-foreground': '#ffffff', 'button-hoverBackground': '#0258a8',
      'button-secondaryBackground': '#e5e5e5', 'button-secondaryForeground': '#3b3b3b', 'button-secondaryHoverBackground': '#cccccc', 'button-border': '#0000001a',
      'list-hoverBackground': '#f2f2f2', 'list-activeSelectionBackground': '#e8e8e8', 'list-activeSelectionForeground': '#000000',
      'list-inactiveSelectionBackground': '#e4e6f1', 'list-focusOutline': '#005fb8',
      'charts-blue': '#1a85ff', 'charts-orange': '#d18616', 'charts-green': '#388a34', 'charts-purple': '#652d90',
      'editorWarning-foreground': '#bf8803', 'editorError-foreground': '#e51400',
      'inputValidation-errorBackground': '#f2dede', 'inputValidation-warningBackground': '#f6f5d2',
      'editor-findMatchHighlightBackground': '#ea5c0055', 'progressBar-background': '#005fb8',
      'settings-dropdownBackground': '#ffffff', 'settings-dropdownBorder': '#cecece', 'settings-dropdownForeground': '#3b3b3b',
      'settings-checkboxBackground': '#f8f8f8', 'settings-checkboxBorder': '#cecece', 'settings-checkboxForeground': '#3b3b3b',
    },
  },
  'high-contrast': {
    bodyClass: 'vscode-high-contrast',
    vars: {
      ...common,
      foreground: '#ffffff', descriptionForeground: '#ffffffb3', errorForeground: '#f48771', focusBorder: '#f38518', contrastBorder: '#6fc3df',
      'editor-background': '#000000', 'sideBar-background': '#000000', 'panel-border': '#6fc3df',
      'button-background': '#000000', 'button-foreground': '#ffffff', 'button-border': '#6fc3df',
      'button-secondaryBackground': '#000000', 'button-secondaryForeground': '#ffffff',
      'list-hoverBackground': '#000000', 'list-activeSelectionBackground': '#000000', 'list-focusOutline': '#f38518',
      'charts-blue': '#3794ff', 'charts-orange': '#ab5a00', 'charts-green': '#89d185', 'charts-purple': '#b180d7',
      'editorWarning-foreground': '#ffd370', 'editorError-foreground': '#ff3232',
      'editor-findMatchHighlightBackground': '#00000000', 'progressBar-background': '#6fc3df',
      'settings-dropdownBackground': '#000000', 'settings-dropdownBorder': '#6fc3df', 'settings-dropdownForeground': '#ffffff',
      'settings-checkboxBackground': '#000000', 'settings-checkboxBorder': '#6fc3df', 'settings-checkboxForeground': '#ffffff',
    },
  },
  // charts.orange derives from minimap.findMatchHighlight, #0F4A85 here: a dark blue like charts.blue.
  'high-contrast-light': {
    bodyClass: 'vscode-high-contrast-light vscode-high-contrast',
    vars: {
      ...common,
      foreground: '#292929', descriptionForeground: '#292929b3', errorForeground: '#b5200d', focusBorder: '#006bbd', contrastBorder: '#0f4a85',
      'editor-background': '#ffffff', 'sideBar-background': '#ffffff', 'panel-border': '#0f4a85',
      'button-background': '#0f4a85', 'button-foreground': '#ffffff', 'button-border': '#0f4a85',
      'button-secondaryBackground': '#ffffff', 'button-secondaryForeground': '#292929',
      'list-hoverBackground': '#ffffff', 'list-activeSelectionBackground': '#0f4a851a', 'list-focusOutline': '#006bbd',
      'charts-blue': '#1a85ff', 'charts-orange': '#0f4a85', 'charts-green': '#374e06', 'charts-purple': '#652d90',
      'editorWarning-foreground': '#895503', 'editorError-foreground': '#b5200d',
      'editor-findMatchHighlightBackground': '#0f4a851a', 'progressBar-background': '#0f4a85',
      'settings-dropdownBackground': '#ffffff', 'settings-dropdownBorder': '#0f4a85', 'settings-dropdownForeground': '#292929',
      'settings-checkboxBackground': '#ffffff', 'settings-checkboxBorder': '#0f4a85', 'settings-checkboxForeground': '#292929',
    },
  },
};

/** A stylesheet that defines the theme's `--vscode-*` variables, and the body class VS Code would set. */
export function themeCss(name: ThemeName): { css: string; bodyClass: string } {
  const t = THEMES[name];
  const vars = Object.entries(t.vars)
    .map(([k, v]) => `  --vscode-${k}: ${v};`)
    .join('\n');
  return { css: `:root {\n${vars}\n}\nbody { background: var(--vscode-sideBar-background); }\n`, bodyClass: t.bodyClass };
}
